package dev.derphole.session.share;

import io.netty.buffer.ByteBuf;

/**
 * The four bytes that open every forwarded-connection stream, written by the side that opens the
 * stream (the one that accepted a TCP connection) before any payload:
 *
 * <pre>
 *   0      1      2      3
 *   +------+------+------+------+---------------------------
 *   | 'D'  | 'H'  | 'S'  | 0x01 | TCP bytes, client → server …
 *   +------+------+------+------+---------------------------
 *     magic "DHS"          version
 * </pre>
 *
 * <p>Why a header at all: a QUIC stream exists for the peer only once a frame has been sent on it.
 * Without these bytes, a client that waits for the server to speak first (SMTP, SSH, MySQL) would
 * open a stream the other side never hears of, and both would wait forever. The magic also makes
 * a stream from something that is not a forwarder fail loudly instead of reaching the target.
 */
public final class StreamHeader {
  /** Bytes on the wire. */
  public static final int LENGTH = 4;
  static final int MAGIC = 0x444853; // "DHS"
  static final int VERSION = 1;

  private StreamHeader() {}

  /** Writes the header to {@code out}. */
  public static ByteBuf encode(ByteBuf out) {
    return out.writeMedium(MAGIC).writeByte(VERSION);
  }

  /**
   * Reads the header from the front of {@code in} once {@link #LENGTH} bytes are there.
   *
   * @return false while fewer than {@link #LENGTH} bytes are readable (nothing is consumed)
   * @throws IllegalArgumentException when the bytes are not a version-1 header (nothing is consumed)
   */
  public static boolean decode(ByteBuf in) {
    if (in.readableBytes() < LENGTH) {
      return false;
    }
    int magic = in.getUnsignedMedium(in.readerIndex());
    int version = in.getUnsignedByte(in.readerIndex() + 3);
    if (magic != MAGIC) {
      throw new IllegalArgumentException(String.format("not a forwarded-connection stream (starts with %06x)", magic));
    }
    if (version != VERSION) {
      throw new IllegalArgumentException("forwarded-connection stream version " + version + "; this derphole speaks "
          + VERSION);
    }
    in.skipBytes(LENGTH);
    return true;
  }
}
