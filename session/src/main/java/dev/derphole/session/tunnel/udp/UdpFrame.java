package dev.derphole.session.tunnel.udp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * One forwarded UDP datagram inside one QUIC DATAGRAM frame (RFC 9221): unreliable, unordered,
 * never on a stream, so a lost datagram is lost as it would be on the wire and never holds up the
 * others.
 *
 * <pre>
 *   0      1 ─ 4                    5 ─
 *   kind | flow id (uint32, big end) | payload (0 to {@link #MAX_PAYLOAD} bytes)
 *   0x00 = DATA; other kinds are reserved and dropped
 * </pre>
 *
 * The flow id is chosen by {@code derptun open}, one per client address it has seen; {@code serve}
 * keeps one socket toward its target per flow id and sends the target's replies back under it.
 */
public final class UdpFrame {
  static final byte DATA = 0x00;
  /** Bytes before the payload. */
  public static final int HEADER = 5;
  /**
   * The largest UDP payload derptun forwards, over the relay and the direct path alike: a QUIC
   * packet of {@link dev.derphole.transport.quic.QuicTransport#MAX_UDP_PAYLOAD} bytes holds one
   * frame of this many bytes with room to spare (a DERP packet carries it whole; the direct path
   * in segments of 1350 bytes, docs/protocol.md). A larger datagram is dropped and counted.
   */
  public static final int MAX_PAYLOAD = 16000;
  /**
   * The largest payload that leaves as one direct UDP datagram (no segments): a QUIC short header
   * (up to 25 bytes), its 16-byte tag, the DATAGRAM frame's type and length (3) and ours (5) within
   * the direct path's 1350 bytes. Larger payloads still pass; over a lossy direct path each
   * extra segment is one more chance to lose the datagram.
   */
  public static final int SINGLE_SEGMENT_PAYLOAD = 1350 - 25 - 16 - 3 - HEADER;

  private UdpFrame() {}

  /** A DATA frame for {@code flow} carrying {@code payload}'s readable bytes (not released). */
  static ByteBuf encode(ByteBufAllocator alloc, int flow, ByteBuf payload) {
    int n = payload.readableBytes();
    if (n > MAX_PAYLOAD) {
      throw new IllegalArgumentException("a " + n + "-byte payload is over the " + MAX_PAYLOAD + "-byte limit");
    }
    ByteBuf out = alloc.directBuffer(HEADER + n);
    out.writeByte(DATA).writeInt(flow).writeBytes(payload, payload.readerIndex(), n);
    return out;
  }

  /**
   * The flow id of a DATA frame, or {@code -1} (as a long) when {@code frame} is not one: too short,
   * another kind, or a payload over {@link #MAX_PAYLOAD}.
   */
  static long flow(ByteBuf frame) {
    if (frame.readableBytes() < HEADER || frame.readableBytes() > HEADER + MAX_PAYLOAD
        || frame.getByte(frame.readerIndex()) != DATA) {
      return -1;
    }
    return frame.getUnsignedInt(frame.readerIndex() + 1);
  }

  /** The payload of a frame that {@link #flow} accepted, as a slice (shares the frame's reference count). */
  static ByteBuf payload(ByteBuf frame) {
    return frame.slice(frame.readerIndex() + HEADER, frame.readableBytes() - HEADER);
  }
}
