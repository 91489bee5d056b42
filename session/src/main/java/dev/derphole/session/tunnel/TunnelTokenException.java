package dev.derphole.session.tunnel;

import java.util.Objects;

/**
 * Why a derptun token cannot be used here. {@link #getMessage()} is one line for the user, and
 * never contains the token or any part of it.
 */
public final class TunnelTokenException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The kind of failure, for callers and tests that branch on it. */
  public enum Reason {
    /** No derptun prefix, or not base64url: something else was pasted. */
    NOT_A_TOKEN,
    /** The prefix is right but the checksum or a field is not: damaged in copying. */
    CORRUPTED,
    /** A well-formed token of a version this build does not read. */
    UNSUPPORTED_VERSION,
    /** Past its expiry. */
    EXPIRED,
    /** A server token where a client token belongs, or the reverse. */
    WRONG_KIND,
    /** An expiry that cannot be: in the past, or a client token outliving its server token. */
    BAD_EXPIRY
  }

  private final Reason reason;

  TunnelTokenException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }
}
