package dev.derphole.session.claim;

import java.util.Optional;

/** What an {@link Envelope} carries; byte 2 of the envelope, and part of its AAD. */
public enum EnvelopeKind {
  /** Claimant → issuer, sealed with the claim key. */
  CLAIM(1),
  /** Issuer → claimant, sealed with the decision key. */
  DECISION(2),
  /** Either way after the claim, sealed with the sender's control key. */
  CONTROL(3);

  private final int code;

  EnvelopeKind(int code) {
    this.code = code;
  }

  /** The wire code. */
  public int code() {
    return code;
  }

  /** The kind with this wire code, if any. */
  public static Optional<EnvelopeKind> of(int code) {
    for (EnvelopeKind k : values()) {
      if (k.code == code) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
