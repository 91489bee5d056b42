package dev.derphole.derp.map;

/**
 * A DERP map could not be read or is not valid. The message is one line a user can act on, such as
 * {@code cannot read DERP map from /etc/derp.json: no such file} or
 * {@code region 1 node "1a": HostName is required}.
 */
public final class DerpMapException extends Exception {
    private static final long serialVersionUID = 1L;

    public DerpMapException(String message) {
        super(message);
    }

    public DerpMapException(String message, Throwable cause) {
        super(message, cause);
    }
}
