package dev.derphole.derp.key;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * A precomputed box key, NaCl's {@code crypto_box_beforenm} result: 32 bytes shared by two key
 * pairs. Sealing and opening with it is XSalsa20-Poly1305 ({@code crypto_secretbox}).
 *
 * <pre>
 *   stream  = XSalsa20(key, nonce24)
 *   polyKey = stream[0, 32)            ct = message XOR stream[32, 32 + n)
 *
 *   seal / open:                       sealWithRandomNonce / openWithNonce:
 *   +---------+----------------+       +-----------+---------+----------------+
 *   | tag(16) | ciphertext(n)  |       | nonce(24) | tag(16) | ciphertext(n)  |
 *   +---------+----------------+       +-----------+---------+----------------+
 *   tag = Poly1305(polyKey, ct)
 * </pre>
 *
 * <p>Immutable and thread-safe: every call builds its own cipher state. Never seal two messages
 * with the same nonce; the random-nonce methods make that a non-issue (24 random bytes).
 */
public final class SharedKey {
  static final int LENGTH = 32;
  static final int NONCE_LENGTH = 24;
  static final int TAG_LENGTH = 16;

  private static final int POLY_KEY_LENGTH = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] key;

  SharedKey(byte[] key) {
    Objects.requireNonNull(key, "key");
    if (key.length != LENGTH) {
      throw new IllegalArgumentException("shared key must be 32 bytes, got " + key.length);
    }
    this.key = key.clone();
  }

  /** The 32 key bytes, a copy; for tests in this package. */
  byte[] raw() {
    return key.clone();
  }

  /**
   * Seals {@code message} under a caller-chosen nonce.
   *
   * @return {@code tag(16) ‖ ciphertext}, 16 bytes longer than {@code message}
   */
  public byte[] seal(byte[] nonce24, byte[] message) {
    Objects.requireNonNull(message, "message");
    XSalsa20Engine stream = stream(nonce24);
    byte[] out = new byte[TAG_LENGTH + message.length];
    byte[] polyKey = polyKey(stream);
    stream.processBytes(message, 0, message.length, out, TAG_LENGTH);
    tag(polyKey, out, TAG_LENGTH, message.length, out, 0);
    return out;
  }

  /**
   * Opens {@code tag(16) ‖ ciphertext} sealed under {@code nonce24}.
   *
   * @throws BoxException if the input is shorter than the tag or the tag does not match
   */
  public byte[] open(byte[] nonce24, byte[] tagAndCiphertext) throws BoxException {
    Objects.requireNonNull(tagAndCiphertext, "tagAndCiphertext");
    return open(nonce24, tagAndCiphertext, 0);
  }

  /**
   * Seals {@code message} under a fresh random nonce.
   *
   * @return {@code nonce(24) ‖ tag(16) ‖ ciphertext}
   */
  public byte[] sealWithRandomNonce(byte[] message) {
    Objects.requireNonNull(message, "message");
    byte[] nonce = new byte[NONCE_LENGTH];
    RANDOM.nextBytes(nonce);
    byte[] box = seal(nonce, message);
    byte[] out = new byte[NONCE_LENGTH + box.length];
    System.arraycopy(nonce, 0, out, 0, NONCE_LENGTH);
    System.arraycopy(box, 0, out, NONCE_LENGTH, box.length);
    return out;
  }

  /**
   * Opens {@code nonce(24) ‖ tag(16) ‖ ciphertext}.
   *
   * @throws BoxException if the input is shorter than 40 bytes or the tag does not match
   */
  public byte[] openWithNonce(byte[] nonceAndBox) throws BoxException {
    Objects.requireNonNull(nonceAndBox, "nonceAndBox");
    if (nonceAndBox.length < NONCE_LENGTH + TAG_LENGTH) {
      throw new BoxException(
          "box is "
              + nonceAndBox.length
              + " bytes, shorter than its 24-byte nonce and 16-byte tag");
    }
    return open(Arrays.copyOf(nonceAndBox, NONCE_LENGTH), nonceAndBox, NONCE_LENGTH);
  }

  /** Opens the box that starts at {@code offset} and runs to the end of {@code in}. */
  private byte[] open(byte[] nonce24, byte[] in, int offset) throws BoxException {
    int boxLength = in.length - offset;
    if (boxLength < TAG_LENGTH) {
      throw new BoxException("box is " + boxLength + " bytes, shorter than its 16-byte tag");
    }
    XSalsa20Engine stream = stream(nonce24);
    byte[] polyKey = polyKey(stream);
    int ctOffset = offset + TAG_LENGTH;
    int ctLength = boxLength - TAG_LENGTH;
    byte[] expected = new byte[TAG_LENGTH];
    tag(polyKey, in, ctOffset, ctLength, expected, 0);
    byte[] actual = Arrays.copyOfRange(in, offset, ctOffset);
    if (!MessageDigest.isEqual(expected, actual)) {
      throw new BoxException(
          "box of " + boxLength + " bytes failed authentication (wrong key, nonce or tampered)");
    }
    byte[] message = new byte[ctLength];
    stream.processBytes(in, ctOffset, ctLength, message, 0);
    return message;
  }

  private XSalsa20Engine stream(byte[] nonce24) {
    Objects.requireNonNull(nonce24, "nonce24");
    if (nonce24.length != NONCE_LENGTH) {
      throw new IllegalArgumentException("nonce must be 24 bytes, got " + nonce24.length);
    }
    XSalsa20Engine stream = new XSalsa20Engine();
    stream.init(true, new ParametersWithIV(new KeyParameter(key), nonce24));
    return stream;
  }

  /** The first 32 keystream bytes are the one-time Poly1305 key; the message starts after. */
  private static byte[] polyKey(XSalsa20Engine stream) {
    byte[] polyKey = new byte[POLY_KEY_LENGTH];
    stream.processBytes(polyKey, 0, POLY_KEY_LENGTH, polyKey, 0);
    return polyKey;
  }

  private static void tag(
      byte[] polyKey, byte[] ct, int ctOffset, int ctLength, byte[] out, int outOffset) {
    Poly1305 mac = new Poly1305();
    mac.init(new KeyParameter(polyKey));
    mac.update(ct, ctOffset, ctLength);
    mac.doFinal(out, outOffset);
    Arrays.fill(polyKey, (byte) 0);
  }
}
