package dev.derphole.transport.path;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;

/** For tests: on a UDP socket's pipeline, drops every datagram both ways while {@link #cut} is set (a path that died). */
@ChannelHandler.Sharable
public final class DatagramCut extends ChannelDuplexHandler {
  public volatile boolean cut;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (cut) {
      ReferenceCountUtil.release(msg);
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (cut && msg instanceof DatagramPacket) {
      ReferenceCountUtil.release(msg);
      promise.trySuccess();
    } else {
      ctx.write(msg, promise);
    }
  }
}
