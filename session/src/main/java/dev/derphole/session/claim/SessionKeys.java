package dev.derphole.session.claim;

import dev.derphole.session.token.Token;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * The keys of one session, each derived from the token's bearer secret:
 *
 * <pre>
 *   key = HKDF-SHA256(ikm = bearer secret (32), salt = session id (16), info = label), 32 bytes
 *
 *   label                                     use
 *   "derphole/v1 claim"                       claimant → issuer: the claim envelope
 *   "derphole/v1 decision"                    issuer → claimant: the decision envelope
 *   "derphole/v1 control issuer to claimant"  later control envelopes, issuer → claimant
 *   "derphole/v1 control claimant to issuer"  later control envelopes, claimant → issuer
 *   "derphole/v1 disco"                       MAC key for direct-path probes
 *   "derphole/v1 disco lane I" (I = 1..15)    MAC key for the probes of direct lane I
 * </pre>
 *
 * One key per use and direction, so nothing sealed for one purpose opens as another, and each
 * AES-GCM key with random 96-bit nonces stays far below 2^32 messages in a one-hour session.
 */
public final class SessionKeys {
  static final String CLAIM_LABEL = "derphole/v1 claim";
  static final String DECISION_LABEL = "derphole/v1 decision";
  static final String CONTROL_FROM_ISSUER_LABEL = "derphole/v1 control issuer to claimant";
  static final String CONTROL_FROM_CLAIMANT_LABEL = "derphole/v1 control claimant to issuer";
  static final String DISCO_LABEL = "derphole/v1 disco";

  /** Length of every derived key. */
  public static final int KEY_LENGTH = 32;

  private final byte[] claim;
  private final byte[] decision;
  private final byte[] controlFromIssuer;
  private final byte[] controlFromClaimant;
  private final byte[] disco;
  private final byte[] bearerSecret;
  private final byte[] sessionId;

  private SessionKeys(byte[] bearerSecret, byte[] sessionId) {
    this.bearerSecret = bearerSecret.clone();
    this.sessionId = sessionId.clone();
    claim = hkdf(bearerSecret, sessionId, CLAIM_LABEL);
    decision = hkdf(bearerSecret, sessionId, DECISION_LABEL);
    controlFromIssuer = hkdf(bearerSecret, sessionId, CONTROL_FROM_ISSUER_LABEL);
    controlFromClaimant = hkdf(bearerSecret, sessionId, CONTROL_FROM_CLAIMANT_LABEL);
    disco = hkdf(bearerSecret, sessionId, DISCO_LABEL);
  }

  /** Derives all keys from a 32-byte bearer secret and a 16-byte session id. */
  public static SessionKeys derive(byte[] bearerSecret, byte[] sessionId) {
    Objects.requireNonNull(bearerSecret, "bearerSecret");
    Objects.requireNonNull(sessionId, "sessionId");
    if (bearerSecret.length != Token.BEARER_LENGTH) {
      throw new IllegalArgumentException(
          "bearer secret must be " + Token.BEARER_LENGTH + " bytes, got " + bearerSecret.length);
    }
    requireSessionId(sessionId);
    return new SessionKeys(bearerSecret, sessionId);
  }

  static void requireSessionId(byte[] sessionId) {
    if (sessionId.length != Token.SESSION_ID_LENGTH) {
      throw new IllegalArgumentException(
          "session id must be " + Token.SESSION_ID_LENGTH + " bytes, got " + sessionId.length);
    }
  }

  /** The keys of a token's session. */
  public static SessionKeys of(Token token) {
    return derive(token.bearerSecret(), token.sessionId());
  }

  /** Seals claims (claimant → issuer). */
  public byte[] claimKey() {
    return claim.clone();
  }

  /** Seals decisions (issuer → claimant). */
  public byte[] decisionKey() {
    return decision.clone();
  }

  /** Seals control messages sent by the issuer ({@code true}) or by the claimant ({@code false}). */
  public byte[] controlKey(boolean fromIssuer) {
    return (fromIssuer ? controlFromIssuer : controlFromClaimant).clone();
  }

  /** Authenticates direct-path probes. */
  public byte[] discoKey() {
    return disco.clone();
  }

  /**
   * Authenticates the probes of direct lane {@code lane} (1..15): a key of its own, so a probe of
   * one lane never promotes another lane's path. Lane 0 is the session's path ({@link #discoKey}).
   */
  public byte[] laneDiscoKey(int lane) {
    if (lane < 1 || lane > 15) {
      throw new IllegalArgumentException("lane must be 1..15, got " + lane);
    }
    return hkdf(bearerSecret, sessionId, DISCO_LABEL + " lane " + lane);
  }

  /** Never shows key material. */
  @Override
  public String toString() {
    return "SessionKeys[(redacted)]";
  }

  private static byte[] hkdf(byte[] ikm, byte[] salt, String label) {
    HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
    hkdf.init(new HKDFParameters(ikm, salt, label.getBytes(StandardCharsets.US_ASCII)));
    byte[] out = new byte[KEY_LENGTH];
    hkdf.generateBytes(out, 0, KEY_LENGTH);
    return out;
  }
}
