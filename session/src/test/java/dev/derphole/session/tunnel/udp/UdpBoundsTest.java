package dev.derphole.session.tunnel.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.derphole.session.Reporter;
import dev.derphole.transport.quic.QuicTransport;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The bounds of UDP forwarding that a peer's frames reach, on a real loopback QUIC connection: one
 * end is {@link UdpTarget} or {@link UdpListener}, the other a bare handler the test drives, which
 * writes DATAGRAM frames as it likes, well-formed or not. The target is a real UDP socket.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class UdpBoundsTest {
  static final Duration PATIENCE = Duration.ofSeconds(30);

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final List<AutoCloseable> closeMe = new ArrayList<>();
  /** DATAGRAM frames the test's end of the connection received. */
  private final BlockingQueue<byte[]> farFrames = new LinkedBlockingQueue<>();

  @AfterEach
  void stop() throws Exception {
    for (int i = closeMe.size() - 1; i >= 0; i--) {
      closeMe.get(i).close();
    }
    timer.shutdownNow();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /**
   * A new flow's first datagrams arrive in one QUIC packet, before its socket toward the target is
   * connected: {@value UdpTarget#PENDING} of them wait for it and reach the target, the rest are
   * dropped and counted, none is queued beyond the bound.
   */
  @Test
  void atMostSixteenDatagramsWaitForAFlowSocketAndTheRestAreCounted() throws Exception {
    Echo target = echo();
    UdpTarget udp = new UdpTarget(target.address(), UdpLimits.DEFAULT, Reporter.SILENT, timer);
    QuicChannel client = pairWithTarget(udp);
    int burst = 3 * UdpTarget.PENDING;
    client.eventLoop().submit(() -> {
      for (int i = 0; i < burst; i++) {
        client.write(frame(UdpFrame.DATA, 7, "datagram " + i));
      }
      client.flush();
    }).sync();

    await().atMost(PATIENCE).until(() -> udp.drops().count(UdpDrops.Reason.BACKLOG) + target.received.get() >= burst);
    assertThat(target.received.get()).as("datagrams that reached the target").isEqualTo(UdpTarget.PENDING);
    assertThat(udp.drops().count(UdpDrops.Reason.BACKLOG)).as("dropped while the socket connected")
        .isEqualTo(burst - UdpTarget.PENDING);
    // The flow then carries on: the next datagram goes through and its echo comes back.
    client.writeAndFlush(frame(UdpFrame.DATA, 7, "after"));
    assertThat(nextFarFrame(f -> f.endsWith("after"))).isEqualTo(new String(encoded(UdpFrame.DATA, 7, "after"), StandardCharsets.ISO_8859_1));
  }

  /**
   * Frames {@code serve} cannot read (too short, a reserved kind) are dropped and counted as
   * malformed; the connection and its flows carry on.
   */
  @Test
  void serveDropsAndCountsMalformedFramesAndCarriesOn() throws Exception {
    Echo target = echo();
    UdpTarget udp = new UdpTarget(target.address(), UdpLimits.DEFAULT, Reporter.SILENT, timer);
    QuicChannel client = pairWithTarget(udp);
    client.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {0, 0, 0}));           // shorter than a header
    client.writeAndFlush(frame((byte) 0x01, 1, "a reserved kind"));
    client.writeAndFlush(frame((byte) 0xff, 2, "another"));
    await().atMost(PATIENCE).until(() -> udp.drops().count(UdpDrops.Reason.MALFORMED) >= 3);

    client.writeAndFlush(frame(UdpFrame.DATA, 9, "still here"));
    assertThat(nextFarFrame(f -> f.endsWith("still here"))).as("the echo of a good frame after the bad ones")
        .isEqualTo(new String(encoded(UdpFrame.DATA, 9, "still here"), StandardCharsets.ISO_8859_1));
    assertThat(client.isActive()).isTrue();
    assertThat(udp.drops().count(UdpDrops.Reason.MALFORMED)).isEqualTo(3);
    assertThat(udp.flows()).as("no socket for a malformed frame").isEqualTo(1);
  }

  /**
   * On {@code open}, a frame from the peer for a flow id it never gave, or one it cannot read, is
   * dropped and counted and reaches no client; the client's own flow carries on.
   */
  @Test
  void openDropsAndCountsUnknownFlowsAndMalformedFramesAndCarriesOn() throws Exception {
    CompletableFuture<QuicChannel> far = new CompletableFuture<>();
    QuicChannel client = pair(new ChannelInboundHandlerAdapter() {
      @Override
      public void channelActive(ChannelHandlerContext ctx) {
        far.complete((QuicChannel) ctx.channel());
        ctx.fireChannelActive();
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        record(msg);
      }

      @Override
      public boolean isSharable() {
        return true;
      }
    }, new ChannelInboundHandlerAdapter());
    QuicChannel serve = far.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    UdpListener open = UdpListener.bind(group, new InetSocketAddress("127.0.0.1", 0), UdpLimits.DEFAULT, Reporter.SILENT);
    closeMe.add(open);
    open.use(client);
    try (java.net.DatagramSocket app = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      app.setSoTimeout((int) PATIENCE.toMillis());
      byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
      app.send(new java.net.DatagramPacket(hello, hello.length, open.localAddress()));
      String first = nextFarFrame(f -> f.endsWith("hello"));
      int flow = ByteBuffer.wrap(first.getBytes(StandardCharsets.ISO_8859_1), 1, 4).getInt();

      serve.writeAndFlush(frame(UdpFrame.DATA, flow + 1, "not your flow"));
      serve.writeAndFlush(frame(UdpFrame.DATA, -1, "nor this"));
      serve.writeAndFlush(frame((byte) 0x02, flow, "a reserved kind"));
      serve.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {0, 0}));
      await().atMost(PATIENCE).until(() -> open.drops().count(UdpDrops.Reason.UNKNOWN_FLOW) >= 2
          && open.drops().count(UdpDrops.Reason.MALFORMED) >= 2);

      serve.writeAndFlush(frame(UdpFrame.DATA, flow, "reply"));
      java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[2048], 2048);
      app.receive(p);
      assertThat(new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII))
          .as("the first datagram the client gets is the reply on its own flow, nothing of the bad frames").isEqualTo("reply");
      assertThat(client.isActive()).isTrue();
      assertThat(open.drops().count(UdpDrops.Reason.UNKNOWN_FLOW)).isEqualTo(2);
      assertThat(open.drops().count(UdpDrops.Reason.MALFORMED)).isEqualTo(2);
    }
  }

  // --- the loopback QUIC pair and the target ---

  /** A connection whose server end forwards to {@code udp}; the client end is the test's. */
  private QuicChannel pairWithTarget(UdpTarget udp) throws Exception {
    return pair(new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        udp.attach((QuicChannel) ctx.channel());
      }

      @Override
      public boolean isSharable() {
        return true;
      }
    });
  }

  /** A loopback QUIC connection whose client end's frames go to {@link #farFrames}; returns the client's end. */
  private QuicChannel pair(ChannelHandler serverConnection) throws Exception {
    return pair(serverConnection, new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        record(msg);
      }
    });
  }

  /** A loopback QUIC connection: {@code serverConnection} on the server's end; returns the client's end. */
  private QuicChannel pair(ChannelHandler serverConnection, ChannelHandler clientConnection) throws Exception {
    TlsIdentity serverTls = TlsIdentity.generate();
    TlsIdentity clientTls = TlsIdentity.generate();
    Channel serverUdp = udp();
    QuicTransport.serve(serverUdp, serverTls, clientTls.publicKey(), serverConnection, new ChannelInboundHandlerAdapter());
    Channel clientUdp = udp();
    QuicChannel quic = QuicTransport.connect(clientUdp, (InetSocketAddress) clientUdp.localAddress(),
        (InetSocketAddress) serverUdp.localAddress(), clientTls, serverTls.publicKey(), clientConnection,
        new ChannelInboundHandlerAdapter()).get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    closeMe.add(() -> quic.close().awaitUninterruptibly(2, TimeUnit.SECONDS));
    return quic;
  }

  private void record(Object msg) {
    try {
      if (msg instanceof ByteBuf b) {
        farFrames.add(ByteBufUtil.getBytes(b));
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private String nextFarFrame(java.util.function.Predicate<String> wanted) throws InterruptedException {
    long end = System.nanoTime() + PATIENCE.toNanos();
    while (System.nanoTime() < end) {
      byte[] f = farFrames.poll(end - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (f != null) {
        String s = new String(f, StandardCharsets.ISO_8859_1);
        if (wanted.test(s)) {
          return s;
        }
      }
    }
    throw new AssertionError("no such frame within " + PATIENCE);
  }

  private Channel udp() throws InterruptedException {
    Channel ch = new Bootstrap().group(group).channel(NioDatagramChannel.class)
        .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(QuicTransport.MAX_UDP_PAYLOAD))
        .handler(new ChannelInboundHandlerAdapter())
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    closeMe.add(() -> ch.close().syncUninterruptibly());
    return ch;
  }

  static byte[] encoded(byte kind, int flow, String payload) {
    byte[] p = payload.getBytes(StandardCharsets.ISO_8859_1);
    return ByteBuffer.allocate(UdpFrame.HEADER + p.length).put(kind).putInt(flow).put(p).array();
  }

  static ByteBuf frame(byte kind, int flow, String payload) {
    return Unpooled.directBuffer().writeBytes(encoded(kind, flow, payload));
  }

  /** A UDP echo service on loopback: every datagram back to its sender, counted. */
  private Echo echo() throws Exception {
    DatagramChannel ch = DatagramChannel.open();
    ch.bind(new InetSocketAddress("127.0.0.1", 0));
    Echo e = new Echo(ch);
    Thread t = new Thread(e, "udp-echo");
    t.setDaemon(true);
    t.start();
    closeMe.add(ch);
    return e;
  }

  private static final class Echo implements Runnable {
    final DatagramChannel ch;
    final AtomicInteger received = new AtomicInteger();

    Echo(DatagramChannel ch) {
      this.ch = ch;
    }

    InetSocketAddress address() throws java.io.IOException {
      return (InetSocketAddress) ch.getLocalAddress();
    }

    @Override
    public void run() {
      ByteBuffer b = ByteBuffer.allocate(65536);
      try {
        while (true) {
          b.clear();
          java.net.SocketAddress from = ch.receive(b);
          received.incrementAndGet();
          b.flip();
          ch.send(b, from);
        }
      } catch (java.io.IOException | RuntimeException closed) {
        // done
      }
    }
  }
}
