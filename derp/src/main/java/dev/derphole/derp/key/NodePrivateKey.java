package dev.derphole.derp.key;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * A node's X25519 private key, and the NaCl box operations done with it.
 *
 * <pre>
 *   raw:   32 bytes, clamped: b[0] &amp;= 248; b[31] = (b[31] &amp; 127) | 64
 *   text:  "privkey:" + 64 lowercase hex digits   (toText only; toString is redacted)
 *
 *   seal output (Tailscale SealTo):
 *   +-----------+---------+----------------+
 *   | nonce(24) | tag(16) | ciphertext(n)  |
 *   +-----------+---------+----------------+
 * </pre>
 *
 * <p>Immutable and thread-safe. {@link #seal} and {@link #open} run X25519 on every call; hold a
 * {@link SharedKey} from {@link #sharedKey} when talking to one peer repeatedly.
 */
public final class NodePrivateKey {
  static final String PREFIX = "privkey:";
  private static final String WHAT = "private key";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] bytes;
  private final NodePublicKey publicKey;

  private NodePrivateKey(byte[] clamped) {
    this.bytes = clamped;
    byte[] pub = new byte[NodePublicKey.LENGTH];
    X25519.scalarMultBase(clamped, 0, pub, 0);
    this.publicKey = NodePublicKey.fromRaw(pub);
  }

  /** Generates a new key from {@link SecureRandom}. */
  public static NodePrivateKey generate() {
    byte[] raw = new byte[NodePublicKey.LENGTH];
    RANDOM.nextBytes(raw);
    return new NodePrivateKey(clamp(raw));
  }

  /** Clamps a copy of 32 raw bytes. */
  public static NodePrivateKey fromRaw(byte[] raw32) {
    Objects.requireNonNull(raw32, "raw32");
    if (raw32.length != NodePublicKey.LENGTH) {
      throw new IllegalArgumentException(
          WHAT + " must be " + NodePublicKey.LENGTH + " bytes, got " + raw32.length);
    }
    return new NodePrivateKey(clamp(raw32.clone()));
  }

  /**
   * Parses {@code "privkey:" + 64 hex digits} (either case). Error messages never quote the text.
   */
  public static NodePrivateKey parse(String text) {
    return new NodePrivateKey(clamp(KeyText.parseTyped(text, PREFIX, WHAT, true)));
  }

  private static byte[] clamp(byte[] raw) {
    raw[0] &= (byte) 248;
    raw[31] = (byte) ((raw[31] & 127) | 64);
    return raw;
  }

  /** Returns a copy of the 32 clamped raw bytes. */
  public byte[] raw() {
    return bytes.clone();
  }

  /** Returns the matching public key (computed once). */
  public NodePublicKey publicKey() {
    return publicKey;
  }

  /** Returns {@code "privkey:" + 64 lowercase hex digits}; this is the secret itself. */
  public String toText() {
    return PREFIX + KeyText.HEX.formatHex(bytes);
  }

  /** Returns {@code "privkey:<redacted>"} so the key never lands in a log by accident. */
  @Override
  public String toString() {
    return PREFIX + "<redacted>";
  }

  /**
   * Returns {@code crypto_box_beforenm(peer, this)}: HSalsa20 of the X25519 result.
   *
   * @throws IllegalArgumentException if {@code peer} is a low-order point, so the X25519 result is
   *     all zero and would give a key anyone can compute
   */
  public SharedKey sharedKey(NodePublicKey peer) {
    byte[] shared = agree(peer);
    byte[] key = HSalsa20.hash(shared, new byte[HSalsa20.INPUT_LENGTH]);
    try {
      return new SharedKey(key);
    } finally {
      Arrays.fill(shared, (byte) 0);
      Arrays.fill(key, (byte) 0);
    }
  }

  /** Raw X25519 (RFC 7748) with {@code peer}; the caller wipes the result. */
  byte[] agree(NodePublicKey peer) {
    Objects.requireNonNull(peer, "peer");
    byte[] shared = new byte[NodePublicKey.LENGTH];
    if (!X25519.calculateAgreement(bytes, 0, peer.bytes(), 0, shared, 0)) {
      throw new IllegalArgumentException(
          "peer key " + peer + " is a low-order point: its X25519 result is all zero");
    }
    return shared;
  }

  /**
   * Seals {@code message} for {@code peer} with a fresh random nonce, as Tailscale's {@code
   * SealTo} does.
   *
   * @return {@code nonce(24) ‖ tag(16) ‖ ciphertext}
   * @throws IllegalArgumentException if {@code peer} is a low-order point
   */
  public byte[] seal(NodePublicKey peer, byte[] message) {
    return sharedKey(peer).sealWithRandomNonce(message);
  }

  /**
   * Opens {@code nonce(24) ‖ tag(16) ‖ ciphertext} sealed by {@code peer} for this key.
   *
   * @throws BoxException if the input is shorter than 40 bytes, the tag does not match, or {@code
   *     peer} is a low-order point
   */
  public byte[] open(NodePublicKey peer, byte[] nonceAndBox) throws BoxException {
    SharedKey key;
    try {
      key = sharedKey(peer);
    } catch (IllegalArgumentException e) {
      throw new BoxException("cannot open box: " + e.getMessage());
    }
    return key.openWithNonce(nonceAndBox);
  }
}
