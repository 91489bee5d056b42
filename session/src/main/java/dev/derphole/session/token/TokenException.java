package dev.derphole.session.token;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Why a token cannot be used, a derphole session token or a derptun token. {@link #getMessage()}
 * is one line meant for the user as is, e.g. {@code the token expired 12 minutes ago}, and never
 * contains the token or any part of it.
 */
public final class TokenException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The kind of failure, for callers that branch on it (exit codes, tests). */
  public enum Reason {
    /** Not base64url, too short, or the wrong magic: probably something else was pasted. */
    NOT_A_TOKEN,
    /** The magic is right but the checksum or the field lengths are not: damaged in copying. */
    CORRUPTED,
    /** A well-formed token of a version this build does not understand. */
    UNSUPPORTED_VERSION,
    /** Past its expiry. */
    EXPIRED,
    /** A valid token for a different command. */
    WRONG_CAPABILITY,
    /** A derptun server token where a client token belongs, or the reverse. */
    WRONG_KIND,
    /** An expiry that cannot be: in the past, or a client token outliving its server token. */
    BAD_EXPIRY
  }

  private final Reason reason;

  /** A failure worded by the token kind that found it (derptun tokens word their own). */
  public TokenException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** The kind of failure. */
  public Reason reason() {
    return reason;
  }

  static TokenException notAToken() {
    return new TokenException(Reason.NOT_A_TOKEN, "that is not a derphole token");
  }

  static TokenException corrupted() {
    return new TokenException(
        Reason.CORRUPTED, "the token is corrupted (checksum mismatch); copy it again");
  }

  static TokenException unsupportedVersion(int version) {
    return new TokenException(
        Reason.UNSUPPORTED_VERSION,
        "this token is version " + version + "; this derphole understands versions " + Token.VERSION
            + " to " + Token.LATEST_VERSION);
  }

  /** {@code the token expired 12 minutes ago}; {@code now} is at or after {@code expires}. */
  static TokenException expired(Instant expires, Instant now) {
    return expired("token", expires, now);
  }

  /** {@code the server token expired 3 days ago}: {@code what} names the token. */
  public static TokenException expired(String what, Instant expires, Instant now) {
    return new TokenException(
        Reason.EXPIRED,
        "the " + what + " expired " + HumanDuration.of(Duration.between(expires, now)) + " ago");
  }

  /** {@code this token is for `derphole open`, not `derphole pipe`}. */
  static TokenException wrongCapability(Capability actual, Capability wanted) {
    return new TokenException(
        Reason.WRONG_CAPABILITY,
        "this token is for `" + actual.claimantCommand() + "`, not `" + wanted.claimantCommand()
            + "`");
  }
}
