package dev.derphole.session.share;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.transport.quic.QuicTransport;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link OpenListener} on its own: real TCP clients on loopback and a real QUIC connection whose
 * far end is no {@link ShareServer} but a bare stream handler the test drives, so that what the
 * listener puts on each stream (header, bytes, FIN, reset) and when it stops reading is seen
 * directly. Its accept path needs a live {@link QuicChannel} (stream credit, stream bootstrap),
 * hence a loopback QUIC pair rather than an EmbeddedChannel.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class OpenListenerTest {
  static final int SECONDS = 30;

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final List<AutoCloseable> closeMe = new ArrayList<>();
  private final BlockingQueue<FarStream> streams = new LinkedBlockingQueue<>();
  private volatile boolean farEndReads = true;

  @AfterEach
  void stop() throws Exception {
    for (int i = closeMe.size() - 1; i >= 0; i--) {
      closeMe.get(i).close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** A client's FIN becomes the stream's FIN while the reply direction stays open, and the other way round. */
  @Test
  void halfClose() throws Exception {
    InetSocketAddress at = listen();
    try (Socket client = new Socket(at.getAddress(), at.getPort())) {
      client.setSoTimeout(SECONDS * 1000);
      client.getOutputStream().write("request".getBytes(StandardCharsets.US_ASCII));
      client.shutdownOutput();
      FarStream far = streams.poll(SECONDS, TimeUnit.SECONDS);
      assertThat(far).as("a stream for the connection").isNotNull();
      assertThat(far.end.get(SECONDS, TimeUnit.SECONDS)).as("how the stream's input ended").isEqualTo("fin");
      assertThat(far.received()).as("header, then the client's bytes")
          .isEqualTo(concat(StreamHeader.encode(Unpooled.buffer()), "request".getBytes(StandardCharsets.US_ASCII)));

      far.replyAndFin("the whole reply");
      assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
          .as("the reply after our FIN, then the far end's FIN").isEqualTo("the whole reply");
    }
  }

  /** A client that resets its connection resets the stream; a stream reset by the far end resets the client. */
  @Test
  void abort() throws Exception {
    InetSocketAddress at = listen();
    try (Socket client = new Socket(at.getAddress(), at.getPort())) {
      client.getOutputStream().write("half a req".getBytes(StandardCharsets.US_ASCII));
      FarStream far = streams.poll(SECONDS, TimeUnit.SECONDS);
      assertThat(far).isNotNull();
      client.setSoLinger(true, 0); // close sends RST
      client.close();
      assertThat(far.end.get(SECONDS, TimeUnit.SECONDS)).as("the stream must not end as if complete").isNotEqualTo("fin");
    }

    try (Socket client = new Socket(at.getAddress(), at.getPort())) {
      client.setSoTimeout(SECONDS * 1000);
      client.getOutputStream().write("req".getBytes(StandardCharsets.US_ASCII));
      FarStream far = streams.poll(SECONDS, TimeUnit.SECONDS);
      assertThat(far).isNotNull();
      far.writeThenReset("partial reply");
      assertThatThrownBy(() -> client.getInputStream().readAllBytes())
          .as("a cut-off reply must not look complete to the client").isInstanceOf(SocketException.class);
    }
  }

  /**
   * The listener reads a client only as fast as its stream takes the bytes: with a far end that
   * reads one batch at a time, the client never gets further ahead of it than the buffers on the
   * way (its send buffer, the accepted socket's receive buffer, the bridge's
   * {@value TcpStreamBridge#HIGH_WATER} bytes, the stream's {@value QuicTransport#MAX_STREAM_DATA}
   * bytes of credit), far less than it tries to write; and every byte arrives in order. A listener
   * that read on regardless would queue the client's bytes in memory and let it run ahead.
   */
  @Test
  void backpressure() throws Exception {
    final long total = 256L << 20;
    final long bound = 64L << 20;
    farEndReads = false;
    InetSocketAddress at = listen();
    try (Socket client = new Socket(at.getAddress(), at.getPort())) {
      client.setSoTimeout(SECONDS * 1000);
      AtomicLong written = new AtomicLong();
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        byte[] chunk = new byte[64 << 10];
        try {
          OutputStream out = client.getOutputStream();
          while (written.get() < total) {
            long from = written.get();
            for (int i = 0; i < chunk.length; i++) {
              chunk[i] = pattern(from + i);
            }
            out.write(chunk);
            written.addAndGet(chunk.length);
          }
          client.shutdownOutput();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      FarStream far = streams.poll(SECONDS, TimeUnit.SECONDS);
      assertThat(far).isNotNull();

      long mostAhead = 0;
      while (!far.end.isDone()) {
        mostAhead = Math.max(mostAhead, written.get() - Math.max(0, far.count.get() - StreamHeader.LENGTH));
        far.readOnce().get(SECONDS, TimeUnit.SECONDS);
      }
      writer.get(SECONDS, TimeUnit.SECONDS);
      assertThat(mostAhead).as("bytes the client got ahead of what the far end read").isLessThanOrEqualTo(bound);
      assertThat(far.end.get()).isEqualTo("fin");
      assertThat(far.count.get()).isEqualTo(StreamHeader.LENGTH + total);
      assertThat(far.misordered.get()).as("first byte out of order").isEqualTo(-1);
    }
  }

  private static byte pattern(long i) {
    return (byte) (i % 251);
  }

  // ------------------------------------------------------------------------------- helpers

  private static byte[] concat(ByteBuf a, byte[] b) {
    byte[] out = new byte[a.readableBytes() + b.length];
    a.readBytes(out, 0, a.readableBytes());
    a.release();
    System.arraycopy(b, 0, out, out.length - b.length, b.length);
    return out;
  }

  /** The far end of one stream: what arrived, and how its input ended. */
  private final class FarStream extends ChannelInboundHandlerAdapter {
    final CompletableFuture<String> end = new CompletableFuture<>();
    final AtomicLong count = new AtomicLong();
    final AtomicLong misordered = new AtomicLong(-1);
    private final ByteArrayOutputStream start = new ByteArrayOutputStream();
    private volatile QuicStreamChannel channel;
    private volatile CompletableFuture<Void> readDone;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      channel = (QuicStreamChannel) ctx.channel();
      streams.add(this);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      try {
        long at = count.get();
        for (int i = b.readerIndex(); i < b.writerIndex(); i++, at++) {
          byte v = b.getByte(i);
          if (at < 4096) {
            synchronized (start) {
              start.write(v);
            }
          }
          long body = at - StreamHeader.LENGTH;
          if (body >= 0 && v != pattern(body) && misordered.get() < 0) {
            misordered.set(body);
          }
        }
        count.set(at);
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        end.complete("fin");
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      end.complete("failed: " + cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      end.complete("closed");
    }

    /** Reads once; completes when that read's bytes (or the stream's end) have arrived. */
    CompletableFuture<Void> readOnce() {
      CompletableFuture<Void> done = new CompletableFuture<>();
      channel.eventLoop().execute(() -> {
        readDone = done;
        end.whenComplete((e, t) -> done.complete(null));
        channel.read();
      });
      return done;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      CompletableFuture<Void> done = readDone;
      if (done != null) {
        done.complete(null);
      }
      ctx.fireChannelReadComplete();
    }

    byte[] received() {
      synchronized (start) {
        return start.toByteArray();
      }
    }

    void replyAndFin(String text) {
      channel.eventLoop().execute(() -> channel.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII))
          .addListener(f -> channel.shutdownOutput()));
    }

    void writeThenReset(String text) {
      channel.eventLoop().execute(() -> channel.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII))
          .addListener(f -> channel.shutdown(7)));
    }
  }

  /** A bare QUIC far end and a listener on the connection to it; returns where clients dial. */
  private InetSocketAddress listen() throws Exception {
    TlsIdentity farTls = TlsIdentity.generate();
    TlsIdentity openTls = TlsIdentity.generate();
    Channel farUdp = udp();
    QuicTransport.serve(farUdp, farTls, openTls.publicKey(), new ChannelInboundHandlerAdapter(),
        new ChannelInitializer<QuicStreamChannel>() {
          @Override
          protected void initChannel(QuicStreamChannel ch) {
            ch.config().setAllowHalfClosure(true);
            ch.config().setAutoRead(farEndReads);
            ch.pipeline().addLast(new FarStream());
          }
        });
    Channel openUdp = udp();
    QuicChannel quic = QuicTransport.connect(openUdp, (InetSocketAddress) openUdp.localAddress(),
        (InetSocketAddress) farUdp.localAddress(), openTls, farTls.publicKey(), new ChannelInboundHandlerAdapter(),
        new ChannelInboundHandlerAdapter()).get(SECONDS, TimeUnit.SECONDS);
    closeMe.add(() -> quic.close().awaitUninterruptibly(2, TimeUnit.SECONDS));
    OpenListener listener = OpenListener.bind(group, new InetSocketAddress("127.0.0.1", 0), 64, ConnectionEvents.NONE);
    closeMe.add(listener);
    listener.start(quic);
    return listener.localAddress();
  }

  private Channel udp() throws InterruptedException {
    // Whole QUIC packets of up to 16 KB: with Netty's default 2 KiB reads they would be cut short.
    Channel ch = new Bootstrap().group(group).channel(NioDatagramChannel.class)
        .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(QuicTransport.MAX_UDP_PAYLOAD))
        .handler(new ChannelInboundHandlerAdapter())
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    closeMe.add(() -> ch.close().syncUninterruptibly());
    return ch;
  }
}
