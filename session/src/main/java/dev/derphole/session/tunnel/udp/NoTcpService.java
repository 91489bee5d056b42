package dev.derphole.session.tunnel.udp;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The stream handler of a {@code derptun serve --udp} without {@code --tcp}: there is no TCP
 * service, so a stream a client opens (a TCP connection to its {@code open --listen}) is closed at
 * once, and the client's connection sees it end.
 */
@ChannelHandler.Sharable
public final class NoTcpService extends ChannelInboundHandlerAdapter {
  public static final NoTcpService INSTANCE = new NoTcpService();

  private NoTcpService() {}

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    ctx.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    io.netty.util.ReferenceCountUtil.release(msg);
  }
}
