package dev.derphole.session.claim;

import io.netty.buffer.ByteBuf;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A DERP payload carrying a sealed control message.
 *
 * <pre>
 *   +------+---------+---------+-----------+--------------------------------+
 *   | 0x00 | ver 0x01| kind(1) | nonce(12) | AES-256-GCM ciphertext ‖ tag 16 |
 *   +------+---------+---------+-----------+--------------------------------+
 *   AAD = the first 3 bytes ‖ session id (16)
 * </pre>
 *
 * <p>The first byte tells envelopes from QUIC on the same DERP peer: every QUIC packet sets the
 * 0x40 "fixed bit" in its first byte (RFC 9000 §17), so 0x00 never starts one. The nonce is
 * random; every key is used for one kind and one direction ({@link SessionKeys}). The session id
 * in the AAD binds an envelope to its session even if two sessions shared a key.
 *
 * <p>{@link #open} never throws on what arrives from the network: any failure is empty, and the
 * caller ignores the packet without replying.
 */
public final class Envelope {
  /** First byte of every envelope. */
  public static final byte MARKER = 0x00;
  /** Envelope format version, byte 1. */
  public static final byte VERSION = 0x01;
  static final int HEADER_LENGTH = 3;
  static final int NONCE_LENGTH = 12;
  static final int TAG_LENGTH = 16;
  /** Bytes an envelope adds to its plaintext. */
  public static final int OVERHEAD = HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH;
  /** Largest envelope: DERP's largest packet, 64 KiB. */
  public static final int MAX_PACKET = 64 * 1024;

  private static final SecureRandom RANDOM = new SecureRandom();

  /** The contents of an envelope that opened. */
  public record Opened(EnvelopeKind kind, byte[] plaintext) {
    /** Copies the plaintext. */
    public Opened {
      Objects.requireNonNull(kind, "kind");
      plaintext = plaintext.clone();
    }

    /** A copy of the plaintext. */
    @Override
    public byte[] plaintext() {
      return plaintext.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Opened other
          && kind == other.kind
          && Arrays.equals(plaintext, other.plaintext);
    }

    @Override
    public int hashCode() {
      return 31 * kind.hashCode() + Arrays.hashCode(plaintext);
    }

    @Override
    public String toString() {
      return "Opened[" + kind + ", " + plaintext.length + " bytes]";
    }
  }

  private Envelope() {}

  /** True if this DERP payload should be handled as an envelope (first byte 0x00), not QUIC. */
  public static boolean isEnvelope(byte[] packet) {
    return packet.length > 0 && packet[0] == MARKER;
  }

  /** As {@link #isEnvelope(byte[])}, reading the byte at the reader index without consuming it. */
  public static boolean isEnvelope(ByteBuf packet) {
    return packet.isReadable() && packet.getByte(packet.readerIndex()) == MARKER;
  }

  /** Seals {@code plaintext} with a random nonce. */
  public static byte[] seal(EnvelopeKind kind, byte[] key, byte[] sessionId, byte[] plaintext) {
    Objects.requireNonNull(kind, "kind");
    checkKeyAndSession(key, sessionId);
    if (plaintext.length > MAX_PACKET - OVERHEAD) {
      throw new IllegalArgumentException(
          "envelope plaintext must be at most " + (MAX_PACKET - OVERHEAD) + " bytes, got "
              + plaintext.length);
    }
    byte[] out = new byte[OVERHEAD + plaintext.length];
    out[0] = MARKER;
    out[1] = VERSION;
    out[2] = (byte) kind.code();
    byte[] nonce = new byte[NONCE_LENGTH];
    RANDOM.nextBytes(nonce);
    System.arraycopy(nonce, 0, out, HEADER_LENGTH, NONCE_LENGTH);
    try {
      Cipher gcm = cipher(Cipher.ENCRYPT_MODE, key, nonce, out, sessionId);
      gcm.doFinal(plaintext, 0, plaintext.length, out, HEADER_LENGTH + NONCE_LENGTH);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed to seal", e);
    }
    return out;
  }

  /**
   * Opens an envelope sealed with {@code key} for {@code sessionId}. Empty if the packet is not a
   * version-1 envelope of a known kind, is truncated or too long, or fails authentication (wrong key,
   * wrong session, any byte changed).
   */
  public static Optional<Opened> open(byte[] key, byte[] sessionId, byte[] packet) {
    checkKeyAndSession(key, sessionId);
    if (packet == null || packet.length < OVERHEAD || packet.length > MAX_PACKET
        || packet[0] != MARKER || packet[1] != VERSION) {
      return Optional.empty();
    }
    Optional<EnvelopeKind> kind = EnvelopeKind.of(packet[2] & 0xFF);
    if (kind.isEmpty()) {
      return Optional.empty();
    }
    byte[] nonce = Arrays.copyOfRange(packet, HEADER_LENGTH, HEADER_LENGTH + NONCE_LENGTH);
    try {
      Cipher gcm = cipher(Cipher.DECRYPT_MODE, key, nonce, packet, sessionId);
      int start = HEADER_LENGTH + NONCE_LENGTH;
      byte[] plaintext = gcm.doFinal(packet, start, packet.length - start);
      return Optional.of(new Opened(kind.get(), plaintext));
    } catch (AEADBadTagException e) {
      return Optional.empty();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed to open", e);
    }
  }

  private static Cipher cipher(int mode, byte[] key, byte[] nonce, byte[] header, byte[] sessionId)
      throws GeneralSecurityException {
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_LENGTH * 8, nonce));
    gcm.updateAAD(header, 0, HEADER_LENGTH);
    gcm.updateAAD(sessionId);
    return gcm;
  }

  private static void checkKeyAndSession(byte[] key, byte[] sessionId) {
    if (key.length != SessionKeys.KEY_LENGTH) {
      throw new IllegalArgumentException(
          "envelope key must be " + SessionKeys.KEY_LENGTH + " bytes, got " + key.length);
    }
    SessionKeys.requireSessionId(sessionId);
  }
}
