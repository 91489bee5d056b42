package dev.derphole.derp.key;

/**
 * A NaCl box could not be opened: it was too short, its Poly1305 tag did not match (tampered, or
 * sealed with another key or nonce), or the peer key cannot take part in X25519.
 */
public final class BoxException extends Exception {
  /**
   * @param message what was wrong with the box, for a log line
   */
  public BoxException(String message) {
    super(message);
  }
}
