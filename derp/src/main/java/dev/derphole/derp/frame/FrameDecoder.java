package dev.derphole.derp.frame;

import static dev.derphole.derp.frame.DerpProtocol.HEADER_LENGTH;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a DERP byte stream into {@link Frame}s. A header announcing more than the current limit is
 * refused at once with a {@link FrameException}, before any of its payload is buffered, so a peer
 * cannot make us hold more than one frame's worth of memory.
 *
 * <p>A relay's decoder ({@link #forRelay}) hands on SendPacket frames whole, as
 * {@link RawSendPacket}s, and a mesh peer's ForwardPacket frames as {@link RawForwardPacket}s, so
 * they can be forwarded without a copy. It also keeps what it has read
 * as a list of read buffers rather than merging them into one: a full-size SendPacket (64 KiB plus
 * 37 bytes) nearly always spans two reads, and merging would copy almost every relayed byte once
 * more, into a fresh buffer too large for the allocator's pools.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
  private final boolean rawSendPackets;
  private volatile int maxFrameLength;

  public FrameDecoder(int maxFrameLength) {
    this(maxFrameLength, false);
  }

  private FrameDecoder(int maxFrameLength, boolean rawSendPackets) {
    this.rawSendPackets = rawSendPackets;
    setMaxFrameLength(maxFrameLength);
    if (rawSendPackets) {
      // No merging copy (the class comment); the gain is in docs/benchmarks.md, "DERP relay".
      setCumulator(COMPOSITE_CUMULATOR);
    }
  }

  /** A decoder that emits {@link RawSendPacket} for SendPacket, {@link RawForwardPacket} for ForwardPacket, {@link Frame}s for the rest. */
  public static FrameDecoder forRelay(int maxFrameLength) {
    return new FrameDecoder(maxFrameLength, true);
  }

  /** Changes the limit, e.g. once a server has verified its client. */
  public void setMaxFrameLength(int maxFrameLength) {
    if (maxFrameLength < 0) {
      throw new IllegalArgumentException("maxFrameLength must be >= 0, got " + maxFrameLength);
    }
    this.maxFrameLength = maxFrameLength;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.readableBytes() >= HEADER_LENGTH) {
      int start = in.readerIndex();
      int type = in.getUnsignedByte(start);
      long length = in.getUnsignedInt(start + 1);
      if (length > maxFrameLength) {
        FrameType known = FrameType.of(type);
        throw new FrameException(
            "frame " + (known != null ? known : String.format("0x%02x", type)) + " of " + length
                + " bytes exceeds the limit of " + maxFrameLength);
      }
      if (in.readableBytes() < HEADER_LENGTH + length) {
        return;
      }
      if (rawSendPackets && type == FrameType.SEND_PACKET.code()) {
        RawSendPacket.checkPayloadLength(length);
        out.add(RawSendPacket.of(in.retainedSlice(start, HEADER_LENGTH + (int) length)));
        in.skipBytes(HEADER_LENGTH + (int) length);
        continue;
      }
      if (rawSendPackets && type == FrameType.FORWARD_PACKET.code()) {
        RawForwardPacket.checkPayloadLength(length);
        out.add(RawForwardPacket.of(in.retainedSlice(start, HEADER_LENGTH + (int) length)));
        in.skipBytes(HEADER_LENGTH + (int) length);
        continue;
      }
      ByteBuf payload = in.slice(start + HEADER_LENGTH, (int) length);
      in.skipBytes(HEADER_LENGTH + (int) length);
      out.add(Frame.decode(type, payload));
    }
  }
}
