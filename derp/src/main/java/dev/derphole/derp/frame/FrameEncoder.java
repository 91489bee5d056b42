package dev.derphole.derp.frame;

import static dev.derphole.derp.frame.DerpProtocol.HEADER_LENGTH;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Writes {@link Frame}s. A large packet frame is written as a small header buffer followed by the
 * packet buffer itself, so it is never copied; a packet of up to {@value #COPY_UP_TO} bytes is
 * copied behind its header into one buffer, which costs less than the second buffer's trip
 * through the outbound queue and its own iovec.
 */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {
  public static final FrameEncoder INSTANCE = new FrameEncoder();
  /** Packets up to this size are copied into their frame's buffer (a WireGuard or QUIC datagram fits). */
  static final int COPY_UP_TO = 2048;

  private FrameEncoder() {
    super(Frame.class);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
    if (frame instanceof Frame.PacketFrame p) {
      ByteBuf packet = p.packet();
      boolean copy = packet.readableBytes() <= COPY_UP_TO;
      ByteBuf head = ctx.alloc().buffer(HEADER_LENGTH + p.prefixLength() + (copy ? packet.readableBytes() : 0));
      head.writeByte(p.type().code());
      head.writeInt(p.payloadLength());
      if (p instanceof Frame.SendPacket s) {
        s.destination().writeTo(head);
      } else if (p instanceof Frame.RecvPacket r) {
        r.source().writeTo(head);
      } else if (p instanceof Frame.ForwardPacket f) {
        f.source().writeTo(head);
        f.destination().writeTo(head);
      }
      if (copy) {
        out.add(head.writeBytes(packet, packet.readerIndex(), packet.readableBytes()));
      } else {
        out.add(head);
        out.add(packet.retain());
      }
    } else {
      ByteBuf buf = ctx.alloc().buffer(frame.encodedLength());
      frame.encode(buf);
      out.add(buf);
    }
  }
}
