package dev.derphole.transport.portmap;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The 12 random bytes that name one PCP mapping (RFC 6887 §11.1): renewals and the delete must
 * carry the same nonce, and a response counts only if it echoes it.
 */
final class PcpNonce {
  static final int LENGTH = 12;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] bytes;

  PcpNonce(byte[] bytes) {
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException("a PCP nonce is " + LENGTH + " bytes, got " + bytes.length);
    }
    this.bytes = bytes.clone();
  }

  static PcpNonce random() {
    byte[] bytes = new byte[LENGTH];
    RANDOM.nextBytes(bytes);
    return new PcpNonce(bytes);
  }

  byte[] bytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PcpNonce nonce && Arrays.equals(bytes, nonce.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(bytes);
  }
}
