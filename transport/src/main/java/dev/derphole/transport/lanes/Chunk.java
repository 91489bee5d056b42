package dev.derphole.transport.lanes;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One piece of the striped stream, as a lane's byte stream carries it: where it sits in the stream
 * and its bytes. A lane's stream is a sequence of these frames, back to back.
 *
 * <pre>
 *  0        1                 9             13
 *  +--------+-----------------+-------------+----------------------+
 *  |flags(1)| stream offset(8)| length(4)   | payload (length)     |
 *  +--------+-----------------+-------------+----------------------+
 *   bit 0:    big-endian,       big-endian,
 *   resent    0 ≤ offset,       1..MAX_PAYLOAD
 *   (others   offset + length
 *   zero)     ≤ 2^63 − 1
 * </pre>
 *
 * A fresh chunk is sent once, on one lane, and the fresh chunks of one lane go in increasing
 * offset order. A resent chunk carries bytes first sent on a lane that died; it may go anywhere.
 * The header is checked as soon as its 13 bytes are in, before any payload is waited for, so a
 * hostile length never makes the reader buffer more than {@link #MAX_PAYLOAD}.
 */
public record Chunk(long offset, boolean resent, byte[] payload) {
  public static final int HEADER_LENGTH = 13;
  /** The largest payload a frame may carry; a reader needs HEADER_LENGTH + MAX_PAYLOAD of buffer. */
  public static final int MAX_PAYLOAD = 256 * 1024;
  static final int FLAG_RESENT = 0x01;

  public Chunk {
    if (offset < 0) {
      throw new IllegalArgumentException("offset must be ≥ 0, got " + offset);
    }
    if (payload.length < 1 || payload.length > MAX_PAYLOAD) {
      throw new IllegalArgumentException("payload must be 1.." + MAX_PAYLOAD + " bytes, got " + payload.length);
    }
    if (offset > Long.MAX_VALUE - payload.length) {
      throw new IllegalArgumentException("offset " + offset + " + " + payload.length + " overflows");
    }
  }

  /** The stream offset just past this chunk. */
  public long end() {
    return offset + payload.length;
  }

  public int encodedLength() {
    return HEADER_LENGTH + payload.length;
  }

  public void encode(ByteBuffer out) {
    out.put((byte) (resent ? FLAG_RESENT : 0)).putLong(offset).putInt(payload.length).put(payload);
  }

  public byte[] encode() {
    ByteBuffer out = ByteBuffer.allocate(encodedLength());
    encode(out);
    return out.array();
  }

  /**
   * Reads one frame from {@code in}. Returns null, consuming nothing, while the frame is not all
   * there yet; throws as soon as the header is malformed.
   */
  public static Chunk decode(ByteBuffer in) throws LaneProtocolException {
    if (in.remaining() < HEADER_LENGTH) {
      return null;
    }
    int start = in.position();
    int flags = in.get(start) & 0xff;
    long offset = in.getLong(start + 1);
    long length = in.getInt(start + 9) & 0xffffffffL;
    if ((flags & ~FLAG_RESENT) != 0) {
      throw new LaneProtocolException("chunk with unknown flags " + Integer.toHexString(flags));
    }
    if (length < 1 || length > MAX_PAYLOAD) {
      throw new LaneProtocolException("chunk length " + length + " outside 1.." + MAX_PAYLOAD);
    }
    if (offset < 0 || offset > Long.MAX_VALUE - length) {
      throw new LaneProtocolException("chunk offset " + Long.toUnsignedString(offset) + " out of range");
    }
    if (in.remaining() < HEADER_LENGTH + length) {
      return null;
    }
    byte[] payload = new byte[(int) length];
    in.position(start + HEADER_LENGTH);
    in.get(payload);
    return new Chunk(offset, (flags & FLAG_RESENT) != 0, payload);
  }

  /** The same bytes of the stream, marked as sent again. */
  Chunk asResent() {
    return new Chunk(offset, true, payload);
  }

  /** The part of this chunk from stream offset {@code from} on (from inside the chunk). */
  Chunk from(long from) {
    if (from <= offset) {
      return this;
    }
    return new Chunk(from, resent, Arrays.copyOfRange(payload, (int) (from - offset), payload.length));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Chunk c && c.offset == offset && c.resent == resent && Arrays.equals(c.payload, payload);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(offset) * 31 + Arrays.hashCode(payload) + (resent ? 1 : 0);
  }

  @Override
  public String toString() {
    return "Chunk[" + offset + "+" + payload.length + (resent ? ", resent" : "") + "]";
  }
}
