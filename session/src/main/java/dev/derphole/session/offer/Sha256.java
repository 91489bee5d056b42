package dev.derphole.session.offer;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** The body checksum both sides compute: SHA-256, 32 bytes. */
final class Sha256 {
  static final int LENGTH = 32;

  private Sha256() {}

  static MessageDigest create() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
