package dev.derphole.session.share;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.stream.ReadCounter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.QuicStreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TcpStreamBridge} between two {@link EmbeddedChannel}s, a TCP connection and a QUIC stream
 * with nothing behind them: what it forwards, half-closes and cuts off, and when it stops reading.
 */
class TcpStreamBridgeTest {
  private final ReadCounter tcpReads = new ReadCounter();
  private final HeldWrites streamWrites = new HeldWrites();
  private final EmbeddedDuplexChannel tcp = new EmbeddedDuplexChannel();
  private final EmbeddedQuicStream stream = new EmbeddedQuicStream();

  @AfterEach
  void release() {
    streamWrites.release();
    tcp.finishAndReleaseAll();
    stream.finishAndReleaseAll();
  }

  private TcpStreamBridge join() {
    TcpStreamBridge bridge = TcpStreamBridge.join(tcp, stream);
    runTasks();
    return bridge;
  }

  @Test
  void bytesCrossBothWays() {
    join();
    tcp.writeInbound(text("GET / HTTP/1.1\r\n\r\n"));
    assertThat(readText(stream)).isEqualTo("GET / HTTP/1.1\r\n\r\n");
    stream.writeInbound(text("HTTP/1.1 200 OK\r\n\r\n"));
    assertThat(readText(tcp)).isEqualTo("HTTP/1.1 200 OK\r\n\r\n");
  }

  @Test
  void eachDirectionEndsOnItsOwnAndThePairClosesInOrderOnceBothHave() {
    TcpStreamBridge bridge = join();
    tcp.writeInbound(text("request"));
    tcp.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    runTasks();
    assertThat(readText(stream)).isEqualTo("request");
    assertThat(stream.isOutputShutdown()).as("the client's FIN passed on as the stream's").isTrue();
    assertThat(tcp.isOutputShutdown()).as("the reply direction still open").isFalse();

    stream.writeInbound(text("the whole reply"));
    assertThat(readText(tcp)).isEqualTo("the whole reply");
    stream.pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
    runTasks();
    assertThat(tcp.isOutputShutdown()).as("the stream's FIN passed on as the client's").isTrue();
    assertThat(bridge.closed()).isCompleted();
    assertThat(bridge.aborted()).isFalse();
    assertThat(stream.resetCode).as("no reset").isEqualTo(-1);
  }

  @Test
  void aTcpConnectionThatDiesMidStreamResetsTheStream() {
    TcpStreamBridge bridge = join();
    tcp.writeInbound(text("half a req"));
    tcp.close();
    runTasks();
    assertThat(bridge.aborted()).isTrue();
    assertThat(stream.resetCode).as("RESET_STREAM, not a FIN").isEqualTo(TcpStreamBridge.ABORTED);
    assertThat(stream.isOpen()).isFalse();
    assertThat(bridge.closed()).isCompleted();
  }

  @Test
  void stopsReadingTcpWhileTheStreamHasNotTakenTheHighMarkAndReadsAgainOnceItHas() {
    stream.pipeline().addFirst(streamWrites);
    tcp.pipeline().addFirst(tcpReads);
    join();
    assertThat(tcpReads.reads).as("the first read").hasValue(1);
    int chunk = 64 << 10;
    int chunks = TcpStreamBridge.HIGH_WATER / chunk;
    for (int i = 1; i < chunks; i++) {
      tcp.writeInbound(Unpooled.wrappedBuffer(new byte[chunk]));
      assertThat(tcpReads.reads).as("reads while %d KiB wait for the stream", i * 64).hasValue(1 + i);
    }
    tcp.writeInbound(Unpooled.wrappedBuffer(new byte[chunk]));
    assertThat(tcpReads.reads).as("no read once the high mark waits").hasValue(chunks);

    streamWrites.release();
    runTasks();
    assertThat(tcpReads.reads).as("reading again once the stream took it").hasValue(chunks + 1);
  }

  private void runTasks() {
    for (int i = 0; i < 3; i++) {
      tcp.runPendingTasks();
      stream.runPendingTasks();
    }
  }

  private static ByteBuf text(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  /** Everything written to {@code ch} so far, as text (frames' contents included). */
  private static String readText(EmbeddedChannel ch) {
    StringBuilder out = new StringBuilder();
    Object m;
    while ((m = ch.readOutbound()) != null) {
      ByteBuf b = m instanceof QuicStreamFrame f ? f.content() : (ByteBuf) m;
      out.append(b.toString(StandardCharsets.UTF_8));
      ReferenceCountUtil.release(m);
    }
    return out.toString();
  }

  /** Holds the writes that pass it until {@link #release}: a stream whose flow control is closed. */
  private static final class HeldWrites extends ChannelOutboundHandlerAdapter {
    private final List<Object[]> held = new ArrayList<>();
    private ChannelHandlerContext ctx;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      held.add(new Object[] {msg, promise});
    }

    void release() {
      if (ctx == null) {
        return;
      }
      for (Object[] w : held) {
        ctx.write(w[0], (ChannelPromise) w[1]);
      }
      held.clear();
      ctx.flush();
    }
  }
}
