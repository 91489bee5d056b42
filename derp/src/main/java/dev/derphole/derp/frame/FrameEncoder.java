package dev.derphole.derp.frame;

import static dev.derphole.derp.frame.DerpProtocol.HEADER_LENGTH;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Writes {@link Frame}s. Packet frames are written as a small header buffer followed by the packet
 * buffer itself, so forwarding never copies the packet.
 */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {
  public static final FrameEncoder INSTANCE = new FrameEncoder();

  private FrameEncoder() {
    super(Frame.class);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
    if (frame instanceof Frame.PacketFrame p) {
      ByteBuf head = ctx.alloc().buffer(HEADER_LENGTH + p.prefixLength());
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
      out.add(head);
      out.add(p.packet().retain());
    } else {
      ByteBuf buf = ctx.alloc().buffer(frame.encodedLength());
      frame.encode(buf);
      out.add(buf);
    }
  }
}
