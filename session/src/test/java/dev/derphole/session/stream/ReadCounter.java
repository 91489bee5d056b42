package dev.derphole.session.stream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import java.util.concurrent.atomic.AtomicInteger;

/** First in a test pipeline: counts how often the handlers behind it ask the channel to read. */
public final class ReadCounter extends ChannelOutboundHandlerAdapter {
  public final AtomicInteger reads = new AtomicInteger();

  @Override
  public void read(ChannelHandlerContext ctx) {
    reads.incrementAndGet();
    ctx.read();
  }
}
