package dev.derphole.derp.key;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.Objects;

/**
 * A node's X25519 public key: the identity a DERP client logs in with and the address packets are
 * sent to.
 *
 * <pre>
 *   wire:  32 raw bytes (ServerKey, ClientInfo, SendPacket, RecvPacket, PeerGone, ...)
 *   text:  "nodekey:" + 64 lowercase hex digits
 *   bare:  64 hex digits (Derp-Public-Key header)
 * </pre>
 *
 * <p>Immutable. Ordered by unsigned bytewise comparison, like Go's {@code bytes.Compare}.
 */
public final class NodePublicKey implements Comparable<NodePublicKey> {
  /** Length of the raw key in bytes. */
  public static final int LENGTH = 32;

  static final String PREFIX = "nodekey:";
  private static final String WHAT = "node public key";
  private static final int SHORT_HEX_CHARS = 5;

  private final byte[] bytes;

  private NodePublicKey(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Copies a raw 32-byte key. */
  public static NodePublicKey fromRaw(byte[] raw32) {
    Objects.requireNonNull(raw32, "raw32");
    if (raw32.length != LENGTH) {
      throw new IllegalArgumentException(
          WHAT + " must be " + LENGTH + " bytes, got " + raw32.length);
    }
    return new NodePublicKey(raw32.clone());
  }

  /**
   * Reads 32 bytes at an absolute {@code index}, leaving the buffer's reader and writer indexes
   * alone. As with {@link ByteBuf#getBytes(int, byte[])}, bounds are checked against the capacity,
   * not the writer index: callers check the frame length first.
   *
   * @throws IndexOutOfBoundsException if {@code index} is negative or {@code index + 32} exceeds
   *     the capacity
   */
  public static NodePublicKey fromBuffer(ByteBuf buf, int index) {
    Objects.requireNonNull(buf, "buf");
    byte[] raw = new byte[LENGTH];
    buf.getBytes(index, raw);
    return new NodePublicKey(raw);
  }

  /** Parses {@code "nodekey:" + 64 hex digits} (either case). */
  public static NodePublicKey parse(String text) {
    return new NodePublicKey(KeyText.parseTyped(text, PREFIX, WHAT, false));
  }

  /** Parses 64 bare hex digits (either case), the {@code Derp-Public-Key} header form. */
  public static NodePublicKey parseUntyped(String hex64) {
    return new NodePublicKey(KeyText.parseHex(hex64, "untyped " + WHAT, false));
  }

  /** Returns a copy of the 32 raw bytes. */
  public byte[] raw() {
    return bytes.clone();
  }

  /** The raw bytes without a copy; callers in this package must not modify them. */
  byte[] bytes() {
    return bytes;
  }

  /** Writes the 32 raw bytes at the buffer's writer index. */
  public void writeTo(ByteBuf out) {
    out.writeBytes(bytes);
  }

  /** Returns the 64 lowercase hex digits with no prefix. */
  public String untypedHex() {
    return KeyText.HEX.formatHex(bytes);
  }

  /** Returns a short form for logs: the first five hex digits in brackets, e.g. {@code [50d20]}. */
  public String shortString() {
    return "[" + untypedHex().substring(0, SHORT_HEX_CHARS) + "]";
  }

  /** Returns {@code "nodekey:" + 64 lowercase hex digits}. */
  @Override
  public String toString() {
    return PREFIX + untypedHex();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NodePublicKey other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public int compareTo(NodePublicKey other) {
    return Arrays.compareUnsigned(bytes, other.bytes);
  }
}
