package dev.derphole.derp.frame;

/** A frame broke the protocol: wrong length, wrong magic, a field out of range. Fatal to the connection. */
public final class FrameException extends RuntimeException {
  public FrameException(String message) {
    super(message);
  }
}
