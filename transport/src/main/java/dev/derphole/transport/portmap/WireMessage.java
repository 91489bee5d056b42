package dev.derphole.transport.portmap;

import java.nio.ByteBuffer;

/**
 * A binary NAT-PMP or PCP message: it writes itself big-endian into a buffer, and its record
 * reads it back with a static {@code decode(ByteBuffer)} that returns empty for anything
 * malformed and never throws.
 */
interface WireMessage {
  int encodedLength();

  /** Writes exactly {@link #encodedLength()} bytes at {@code out}'s position. */
  void encode(ByteBuffer out);

  default byte[] encode() {
    ByteBuffer out = ByteBuffer.allocate(encodedLength());
    encode(out);
    return out.array();
  }
}
