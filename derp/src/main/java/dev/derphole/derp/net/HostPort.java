package dev.derphole.derp.net;

/**
 * A host and a port as text writes them: {@code host:port}, {@code [v6-address]:port}, or
 * {@code :port} (no host). The one place the project splits such text: command-line addresses,
 * candidates in claims. The host is not looked at (a name, or an IP literal for {@link
 * IpLiteral}); the port is decimal digits only, 0-65535.
 *
 * @param host without brackets; empty for {@code :port}
 */
public record HostPort(String host, int port) {
  /** Longer than any host name (253) with brackets and a port. */
  static final int MAX_TEXT = 261;

  public HostPort {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " out of range");
    }
  }

  /**
   * Splits {@code text}; an IPv6 literal must be in brackets (its own colons would be ambiguous).
   *
   * @throws IllegalArgumentException naming what is wrong, with the text, for a user to read
   */
  public static HostPort parse(String text) {
    return parse(text, false);
  }

  /** As {@link #parse(String)}, also taking a port alone ({@code 8080}) as {@code :8080}: command lines. */
  public static HostPort parseOrPort(String text) {
    return parse(text, true);
  }

  private static HostPort parse(String text, boolean portAlone) {
    if (text == null || text.length() > MAX_TEXT) {
      throw new IllegalArgumentException("bad address: want host:port");
    }
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("bad address \"" + text + "\": want [v6-address]:port");
      }
      host = text.substring(1, close);
      port = text.substring(close + 2);
    } else if (text.indexOf(':') != text.lastIndexOf(':')) {
      throw new IllegalArgumentException("bad address \"" + text + "\": put IPv6 addresses in brackets, [::1]:port");
    } else if (text.indexOf(':') >= 0) {
      host = text.substring(0, text.indexOf(':'));
      port = text.substring(text.indexOf(':') + 1);
    } else if (portAlone) {
      host = "";
      port = text;
    } else {
      throw new IllegalArgumentException("bad address \"" + text + "\": want host:port");
    }
    return new HostPort(host, port(port, text));
  }

  /** {@code host:port}, the host in brackets when it has a colon (IPv6). */
  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  private static int port(String digits, String text) {
    if (digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new IllegalArgumentException("bad port \"" + digits + "\" in \"" + text + "\"");
    }
    int p = Integer.parseInt(digits);
    if (p > 65535) {
      throw new IllegalArgumentException("port " + p + " out of range in \"" + text + "\"");
    }
    return p;
  }
}
