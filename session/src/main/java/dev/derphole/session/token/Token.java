package dev.derphole.session.token;

import dev.derphole.derp.key.NodePublicKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A bearer capability: whoever holds the text can claim the session it names. Printed by the
 * issuing command, pasted into the claiming one.
 *
 * <p>Text form: base64url without padding of the binary form ({@link TokenText}, the frame derptun
 * tokens share). Whitespace anywhere in the text is ignored, so a token broken over lines still
 * decodes. A token without a custom relay is 132 bytes, 176 characters; every version-1 token
 * starts with {@code dhoB}, every version-2 one with {@code dhoC}.
 *
 * <p>Binary form, versions 1 and 2 (the same layout; version 2 is only for the capability it added,
 * {@link Capability#RECEIVE}, which a version-1 token cannot carry). Integers are big-endian,
 * offsets in bytes:
 *
 * <pre>
 *   off  len  field
 *     0    2  magic 0x76 0x1A              wrong magic: "not a derphole token"
 *     2    1  version                      the capability's, {@link Capability#tokenVersion()}
 *     3    1  capability code              {@link Capability#code()}
 *     4   16  session id                   random
 *    20    8  expires                      unix seconds, signed
 *    28    2  DERP region id               unsigned, 0 = none
 *    30   32  issuer DERP key              Curve25519 node key
 *    62   33  issuer TLS key               SEC1 compressed P-256 point, {@link CompressedP256}
 *    95   32  bearer secret                random; every session key is derived from it
 *   127    1  relay flags                  bit 0 custom relay follows, bit 1 TLS,
 *                                          bit 2 certificate pin, bit 3 IP literal,
 *                                          bit 4 STUN port; bits 5-7 zero, and all
 *                                          zero without bit 0
 *   128    *  custom relay (bit 0 only):
 *               1  host length n, 1-253
 *               n  host, ASCII
 *               2  port, 1-65535
 *              32  SHA-256 of the leaf certificate   (bit 2 only)
 *               1  address length, 4 or 16           (bit 3 only)
 *             4|16 IP address to dial                (bit 3 only)
 *               2  STUN port, 1-65535                (bit 4 only)
 *   end-4  4  checksum                     CRC-32C of every byte before it
 * </pre>
 *
 * <p>The magic, the version's offset and the trailing checksum are the same in every version, so
 * any derphole can tell a newer token from a damaged one. Decoding checks, in order: base64url and
 * magic ({@code NOT_A_TOKEN}), checksum ({@code CORRUPTED}), version ({@code UNSUPPORTED_VERSION}),
 * field lengths and values ({@code CORRUPTED}), expiry ({@code EXPIRED}) and, in {@link
 * #decodeFor}, capability ({@code WRONG_CAPABILITY}).
 *
 * <p>The checksum catches copy damage; it is not a seal. Anyone can make a token; what a token is
 * worth is decided in the claim, where the issuer proves it holds the DERP and TLS keys named here.
 *
 * @param version the capability's {@link Capability#tokenVersion()}
 * @param capability what the bearer may do
 * @param sessionId 16 random bytes naming the session; the HKDF salt
 * @param expires when the token stops working, whole seconds (finer parts are dropped)
 * @param issuerDerpKey where claims go on the relay
 * @param issuerTlsKey the issuer's TLS identity (P-256, 33-byte compressed point), pinned in QUIC
 * @param bearerSecret 32 random bytes, the root of every session key; never printed
 * @param relay where the issuer waits
 */
public record Token(
    int version,
    Capability capability,
    byte[] sessionId,
    Instant expires,
    NodePublicKey issuerDerpKey,
    byte[] issuerTlsKey,
    byte[] bearerSecret,
    RelayHint relay) {

  /** The first token version, which every capability but {@link Capability#RECEIVE} is written in. */
  public static final int VERSION = 1;

  /**
   * The newest token version this build reads and writes. Version 2 has version 1's layout and
   * adds one capability, {@link Capability#RECEIVE}; see {@link Capability#tokenVersion()}.
   */
  public static final int LATEST_VERSION = 2;

  /** How long a derphole session token lasts. */
  public static final Duration SESSION_LIFETIME = Duration.ofHours(1);

  /** Length of the session id. */
  public static final int SESSION_ID_LENGTH = 16;

  /** Length of the bearer secret. */
  public static final int BEARER_LENGTH = 32;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
  private static final byte[] VERIFY_LABEL = "derphole/v1 verify".getBytes(StandardCharsets.UTF_8);

  /**
   * Checks the version against the capability, lengths and the TLS key, copies the arrays, truncates
   * {@code expires} to seconds.
   */
  public Token {
    Objects.requireNonNull(capability, "capability");
    if (version != capability.tokenVersion()) {
      throw new IllegalArgumentException("a " + capability.jsonName() + " token is version "
          + capability.tokenVersion() + ", got " + version);
    }
    Objects.requireNonNull(expires, "expires");
    Objects.requireNonNull(issuerDerpKey, "issuerDerpKey");
    Objects.requireNonNull(relay, "relay");
    sessionId = copyOf(sessionId, SESSION_ID_LENGTH, "session id");
    bearerSecret = copyOf(bearerSecret, BEARER_LENGTH, "bearer secret");
    if (!CompressedP256.isValid(issuerTlsKey)) {
      throw new IllegalArgumentException(
          "issuer TLS key must be a 33-byte compressed P-256 point");
    }
    issuerTlsKey = issuerTlsKey.clone();
    expires = Instant.ofEpochSecond(expires.getEpochSecond());
  }

  /** A new token with a random session id and bearer secret, valid for {@link #SESSION_LIFETIME}. */
  public static Token issue(
      Capability capability,
      NodePublicKey issuerDerpKey,
      byte[] issuerTlsKey,
      RelayHint relay,
      Instant now) {
    byte[] sessionId = new byte[SESSION_ID_LENGTH];
    byte[] bearer = new byte[BEARER_LENGTH];
    RANDOM.nextBytes(sessionId);
    RANDOM.nextBytes(bearer);
    return new Token(
        capability.tokenVersion(),
        capability,
        sessionId,
        now.plus(SESSION_LIFETIME),
        issuerDerpKey,
        issuerTlsKey,
        bearer,
        relay);
  }

  /** The text form: base64url of the binary form, no padding. */
  public String encode() {
    return TokenText.print("", toBytes());
  }

  /** The binary form, checksum included (the table above). */
  public byte[] toBytes() {
    return TokenCodec.encode(this);
  }

  /**
   * Reads the binary form and checks everything but expiry and capability, which the caller
   * judges (a token inside a derptun token has the derptun token's expiry).
   *
   * @throws TokenException {@code NOT_A_TOKEN}, {@code CORRUPTED} or {@code UNSUPPORTED_VERSION}
   */
  public static Token fromBytes(byte[] bytes) throws TokenException {
    return TokenCodec.decode(Objects.requireNonNull(bytes, "bytes"));
  }

  /**
   * Reads a pasted token and checks everything but the capability. Whitespace anywhere (line
   * breaks, spaces, no-break spaces) is ignored.
   *
   * @throws TokenException with a one-line message for the user
   */
  public static Token decode(String text, Instant now) throws TokenException {
    Objects.requireNonNull(now, "now");
    TokenText.Read read = TokenText.compact(Objects.requireNonNull(text, "text"))
        .flatMap(TokenText::read)
        .orElseThrow(TokenException::notAToken);
    // The magic and the checksum judge a cut or bent text before its spelling does.
    Token token = fromBytes(read.bytes());
    if (!read.canonical()) {
      throw TokenException.corrupted();
    }
    token.requireUnexpired(now);
    return token;
  }

  /**
   * {@link #decode} plus the capability check, for a claiming command.
   *
   * @throws TokenException with a one-line message for the user
   */
  public static Token decodeFor(String text, Capability wanted, Instant now)
      throws TokenException {
    Token token = decode(text, now);
    token.requireCapability(wanted);
    return token;
  }

  /** Throws {@code EXPIRED} ("the token expired 12 minutes ago") unless {@code now} < expiry. */
  public void requireUnexpired(Instant now) throws TokenException {
    if (!now.isBefore(expires)) {
      throw TokenException.expired(expires, now);
    }
  }

  /** Throws {@code WRONG_CAPABILITY} unless this token is for {@code wanted}. */
  public void requireCapability(Capability wanted) throws TokenException {
    if (capability != wanted) {
      throw TokenException.wrongCapability(capability, wanted);
    }
  }

  /**
   * A short code both sides can read to each other to confirm they hold the same token, e.g. {@code
   * 7KQ2-MX4A-P9RT}: the first 60 bits of SHA-256("derphole/v1 verify" ‖ binary token) in Crockford
   * base32 (no I, L, O, U), in groups of four.
   */
  public String verificationCode() {
    byte[] digest;
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(VERIFY_LABEL);
      digest = sha.digest(toBytes());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    long bits = 0;
    for (int i = 0; i < 8; i++) {
      bits = (bits << 8) | (digest[i] & 0xFF);
    }
    StringBuilder out = new StringBuilder(14);
    for (int i = 0; i < 12; i++) {
      if (i > 0 && i % 4 == 0) {
        out.append('-');
      }
      out.append(CODE_ALPHABET[(int) (bits >>> (64 - 5 * (i + 1))) & 0x1F]);
    }
    return out.toString();
  }

  /** A copy of the session id. */
  @Override
  public byte[] sessionId() {
    return sessionId.clone();
  }

  /** A copy of the issuer's compressed TLS key. */
  @Override
  public byte[] issuerTlsKey() {
    return issuerTlsKey.clone();
  }

  /** A copy of the bearer secret. Keep it out of logs. */
  @Override
  public byte[] bearerSecret() {
    return bearerSecret.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Token other
        && version == other.version
        && capability == other.capability
        && Arrays.equals(sessionId, other.sessionId)
        && expires.equals(other.expires)
        && issuerDerpKey.equals(other.issuerDerpKey)
        && Arrays.equals(issuerTlsKey, other.issuerTlsKey)
        && MessageDigest.isEqual(bearerSecret, other.bearerSecret)
        && relay.equals(other.relay);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        version,
        capability,
        Arrays.hashCode(sessionId),
        expires,
        issuerDerpKey,
        Arrays.hashCode(issuerTlsKey),
        relay);
  }

  /** Everything but the bearer secret, which is redacted. */
  @Override
  public String toString() {
    return "Token[v" + version
        + " " + capability.jsonName()
        + " session=" + HexFormat.of().formatHex(sessionId)
        + " expires=" + expires
        + " issuer=" + issuerDerpKey
        + " tls=" + HexFormat.of().formatHex(issuerTlsKey)
        + " relay=" + relay.regionId() + relay.custom().map(c -> " " + c).orElse("")
        + " bearer=(redacted)]";
  }

  private static byte[] copyOf(byte[] bytes, int length, String what) {
    Objects.requireNonNull(bytes, what);
    if (bytes.length != length) {
      throw new IllegalArgumentException(
          what + " must be " + length + " bytes, got " + bytes.length);
    }
    return bytes.clone();
  }
}
