package dev.derphole.session.claim;

/** A claim or decision that authenticated but is not well-formed JSON of the expected shape. */
public final class ClaimException extends Exception {
  private static final long serialVersionUID = 1L;

  ClaimException(String message) {
    super(message);
  }
}
