package dev.derphole.derp.key;

import java.util.Arrays;
import java.util.Objects;
import org.bouncycastle.crypto.engines.Salsa20Engine;
import org.bouncycastle.util.Pack;

/**
 * HSalsa20, the key-derivation half of XSalsa20, which Bouncy Castle does not expose.
 *
 * <p>NaCl's {@code crypto_box_beforenm} is {@code HSalsa20(X25519 result, 16 zero bytes)}.
 *
 * <pre>
 *   state, 16 little-endian u32 words:
 *     word   0       1..4       5       6..9         10      11..14      15
 *          "expa"  key[0,16)  "nd 3"  input[0,16)  "2-by"  key[16,32)  "te k"
 *   x   = Salsa20 core, 20 rounds, minus the feed-forward add that Bouncy Castle applies
 *   out = words 0, 5, 10, 15, 6, 7, 8, 9 of x, little-endian (32 bytes)
 * </pre>
 */
final class HSalsa20 {
  static final int KEY_LENGTH = 32;
  static final int INPUT_LENGTH = 16;
  static final int OUTPUT_LENGTH = 32;

  private static final int SIGMA_0 = 0x61707865; // "expa"
  private static final int SIGMA_1 = 0x3320646e; // "nd 3"
  private static final int SIGMA_2 = 0x79622d32; // "2-by"
  private static final int SIGMA_3 = 0x6b206574; // "te k"
  private static final int[] OUTPUT_WORDS = {0, 5, 10, 15, 6, 7, 8, 9};

  private HSalsa20() {}

  /** Returns the 32-byte HSalsa20 output for a 32-byte key and a 16-byte input. */
  static byte[] hash(byte[] key, byte[] input) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(input, "input");
    if (key.length != KEY_LENGTH) {
      throw new IllegalArgumentException("HSalsa20 key must be 32 bytes, got " + key.length);
    }
    if (input.length != INPUT_LENGTH) {
      throw new IllegalArgumentException("HSalsa20 input must be 16 bytes, got " + input.length);
    }
    int[] state = new int[16];
    state[0] = SIGMA_0;
    Pack.littleEndianToInt(key, 0, state, 1, 4);
    state[5] = SIGMA_1;
    Pack.littleEndianToInt(input, 0, state, 6, 4);
    state[10] = SIGMA_2;
    Pack.littleEndianToInt(key, 16, state, 11, 4);
    state[15] = SIGMA_3;

    int[] x = new int[16];
    Salsa20Engine.salsaCore(20, state, x);

    byte[] out = new byte[OUTPUT_LENGTH];
    for (int i = 0; i < OUTPUT_WORDS.length; i++) {
      int word = OUTPUT_WORDS[i];
      Pack.intToLittleEndian(x[word] - state[word], out, 4 * i);
    }
    Arrays.fill(state, 0);
    Arrays.fill(x, 0);
    return out;
  }
}
