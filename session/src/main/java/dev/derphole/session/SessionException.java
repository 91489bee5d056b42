package dev.derphole.session;

/** A session failed for a reason the user can act on; the message is one line, meant to be shown as is. */
public class SessionException extends Exception {
  public SessionException(String message) {
    super(message);
  }

  public SessionException(String message, Throwable cause) {
    super(message, cause);
  }
}
