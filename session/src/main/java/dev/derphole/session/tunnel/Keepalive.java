package dev.derphole.session.tunnel;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keeps an idle tunnel's QUIC connection alive (QUIC closes after 30 s without packets, and an idle
 * SSH session sends none): the client opens one unidirectional stream and writes one byte on it
 * every {@link #INTERVAL}; the server reads and drops them. Each byte is acknowledged, so both
 * sides hear from each other. Bidirectional streams are the tunnel's TCP connections; the one
 * unidirectional stream is this.
 */
final class Keepalive {
  static final Duration INTERVAL = Duration.ofSeconds(5);

  private Keepalive() {}

  /** Client side: starts the ticks on {@code quic}; they stop when the connection closes. */
  static void start(QuicChannel quic) {
    quic.createStream(QuicStreamType.UNIDIRECTIONAL, new ChannelInboundHandlerAdapter()).addListener(f -> {
      if (!f.isSuccess()) {
        return;
      }
      QuicStreamChannel s = (QuicStreamChannel) f.getNow();
      ScheduledFuture<?> tick = s.eventLoop().scheduleAtFixedRate(
          () -> s.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {0})),
          0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      s.closeFuture().addListener(x -> tick.cancel(false));
    });
  }

  /**
   * Server side: the stream handler for a leg; the keepalive stream is drained, every other
   * stream goes to {@code streams}.
   */
  static ChannelHandler serverStreams(ChannelHandler streams) {
    return new ChannelInitializer<QuicStreamChannel>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        if (ch.type() == QuicStreamType.UNIDIRECTIONAL) {
          ch.pipeline().addLast(new Drain());
        } else {
          ch.pipeline().addLast(streams);
        }
      }
    };
  }

  private static final class Drain extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }
  }
}
