package dev.derphole.bench;

import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.Reporter;
import dev.derphole.session.SessionOptions;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import dev.derphole.session.stream.StreamReceiver;
import dev.derphole.session.stream.StreamSender;
import dev.derphole.transport.path.DirectPath;
import dev.derphole.transport.path.PeerPath;
import dev.derphole.transport.quic.QuicTransport;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import io.netty.handler.codec.quic.QuicConnectionStats;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The QUIC data path rung by rung, both ends in this process on loopback UDP, one stream of
 * {@code --bytes} each run, so that the rung where throughput drops shows where to look:
 *
 * <pre>
 *   bare    Netty's QUIC codec alone on each UDP socket, our codec settings (QuicTransport); the
 *           sender writes from the event loop whenever the stream is writable, the receiver
 *           counts and drops what it reads; QUIC's packets (up to 16 KB) go out whole, one UDP
 *           datagram each, where the path cuts them into 1350-byte segments
 *   path    the same with DirectPath and PeerPath in front of the codec, as a session has them,
 *           going direct (QUIC sees the virtual addresses)
 *   stream  StreamSender (from a thread, as `pipe` reads stdin) and StreamReceiver (to an output
 *           that counts) on top of `path`
 *   session the same stream between a real IssuedSession and ClaimedSession (as `listen` and
 *           `pipe` set them up: event loops of two threads each, DERP link, claim, disco, promotion)
 *           through a DERP server in this process; the stream starts on the relay, as `pipe` does
 *   relay   `session` with --force-relay
 * </pre>
 *
 * Prints one {@code RESULT} line per measured run with the rate, each thread's CPU over the run,
 * and the kernel's UDP receive-buffer drops (from {@code /proc/net/snmp}) during it. A warm-up
 * run of each rung ({@code --warmup} bytes) comes first and is not reported.
 *
 * <pre>
 *   java -cp bench/target/derphole-bench.jar dev.derphole.bench.QuicCeilingBench \
 *        --rungs bare,path,stream --bytes 1073741824 --runs 2
 * </pre>
 */
public final class QuicCeilingBench {
  static final int CHUNK = 64 << 10;
  private static final List<String> RUNGS = List.of("bare", "path", "stream", "session", "relay");
  private static final Duration TIMEOUT = Duration.ofMinutes(5);
  private static final ScheduledExecutorService WATCH = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "progress");
    t.setDaemon(true);
    return t;
  });

  private QuicCeilingBench() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = BenchArgs.parse(args, Set.of("rungs", "bytes", "runs", "warmup"));
    List<String> rungs = List.of(a.string("rungs", "bare,path,stream").split(","));
    long bytes = a.positiveLong("bytes", 1L << 30);
    int runs = a.positiveInt("runs", 1);
    long warmup = a.nonNegativeLong("warmup", 128L << 20);
    for (String rung : rungs) {
      if (!RUNGS.contains(rung)) {
        throw new IllegalArgumentException("--rungs: unknown rung " + rung + "; known: " + RUNGS);
      }
    }
    for (String rung : rungs) {
      if (warmup > 0) {
        run(rung, warmup);
      }
    }
    for (int i = 0; i < runs; i++) {
      for (String rung : rungs) {
        System.out.println(run(rung, bytes));
      }
    }
    System.exit(0);
  }

  private static ResultLine run(String rung, long bytes) throws Exception {
    if (rung.equals("session") || rung.equals("relay")) {
      return runSession(rung, bytes, rung.equals("relay"));
    }
    boolean withPath = !rung.equals("bare");
    try (Side server = new Side("server-io", withPath, 0); Side client = new Side("client-io", withPath, 1)) {
      if (withPath) {
        server.goDirectTo(client);
        client.goDirectTo(server);
      }
      CompletableFuture<Long> received = new CompletableFuture<>();
      StreamReceiver receiver = rung.equals("stream") ? new StreamReceiver(new CountingOutput()) : null;
      ChannelHandler serverStreams = receiver != null ? oneStream(receiver) : new Sink(received);
      CompletableFuture<QuicChannel> serverQuic = new CompletableFuture<>();
      QuicTransport.serve(server.udp, server.tls, client.tls.publicKey(), new Accepted(serverQuic), serverStreams);
      InetSocketAddress local = withPath ? client.path.virtualLocal() : client.address();
      InetSocketAddress peer = withPath ? client.path.virtualPeer() : server.address();
      QuicChannel quic = QuicTransport.connect(client.udp, local, peer, client.tls, server.tls.publicKey(), noop(), noop())
          .get(10, TimeUnit.SECONDS);
      if (withPath) { // as a session does: what each connection accepts keeps the direct path alive
        client.path.quic(quic);
        serverQuic.thenAccept(server.path::quic);
      }

      ResultLine line = measure(rung, bytes, quic, serverQuic, moved -> {
        if (receiver != null) {
          return StreamSender.send(quic, new GeneratedInput(bytes), moved::set);
        }
        quic.createStream(QuicStreamType.BIDIRECTIONAL, new EventLoopWriter(bytes, moved)).get(10, TimeUnit.SECONDS);
        return received.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      });
      quic.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
      return line;
    }
  }

  private static ResultLine runSession(String rung, long bytes, boolean forceRelay) throws Exception {
    DerpServer relay = DerpServer.start(DerpServerConfig.builder().build());
    EventLoopGroup listenGroup = EventLoops.newGroup(2, "listen-io");
    EventLoopGroup pipeGroup = EventLoops.newGroup(2, "pipe-io");
    try {
      DerpNode node = new DerpNode("900a", 900, "127.0.0.1", "", "127.0.0.1", "", DerpNode.NO_STUN, false,
          relay.localAddress().getPort(), false, false, true);
      DerpMap map = DerpMap.singleRegion(900, "bench", node);
      AtomicBoolean direct = new AtomicBoolean();
      Reporter watchPath = (name, detail) -> {
        if (name.equals("connected-direct")) {
          direct.set(true);
        }
      };
      SessionOptions listenOptions = new SessionOptions(listenGroup, watchPath, () -> map, true, forceRelay, false,
          SessionOptions.DEFAULT_CLAIM_TIMEOUT);
      SessionOptions pipeOptions = new SessionOptions(pipeGroup, Reporter.SILENT, () -> map, true, forceRelay, false,
          SessionOptions.DEFAULT_CLAIM_TIMEOUT);
      StreamReceiver receiver = new StreamReceiver(new CountingOutput());
      try (IssuedSession listen = IssuedSession.open(Capability.STREAM, listenOptions, oneStream(receiver));
           ClaimedSession pipe = ClaimedSession.claim(Token.decodeFor(listen.token().encode(), Capability.STREAM, Instant.now()),
               pipeOptions, null)) {
        QuicChannel server = listen.awaitConnection();
        QuicChannel quic = pipe.connection();
        ResultLine line = measure(rung, bytes, quic, CompletableFuture.completedFuture(server), moved -> {
          long sent = StreamSender.send(quic, new GeneratedInput(bytes), moved::set);
          // the sender's count first; the receiver's must agree with it too
          return sent != bytes ? sent : receiver.done().get(10, TimeUnit.SECONDS);
        });
        return line.put("path", direct.get() ? "direct" : "relay");
      }
    } finally {
      listenGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
      pipeGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
      relay.close();
    }
  }

  /** One rung's transfer: moves the bytes, counting progress in {@code moved}; returns what arrived. */
  private interface Transfer {
    long run(AtomicLong moved) throws Exception;
  }

  /**
   * Runs {@code transfer} with a progress line on stderr every 2 s and measures it: the rate, each
   * thread's CPU, UDP receive-buffer drops, and both ends' packet counts.
   */
  private static ResultLine measure(String rung, long bytes, QuicChannel quic, CompletableFuture<QuicChannel> receiverSide,
                                    Transfer transfer) throws Exception {
    ThreadCpu cpuBefore = ThreadCpu.now();
    UdpCounters udpBefore = UdpCounters.now();
    AtomicLong moved = new AtomicLong();
    long start = System.nanoTime();
    // Off the event loops: collecting stats waits for the client's loop.
    ScheduledFuture<?> watch = WATCH.scheduleWithFixedDelay(
        () -> System.err.println(rung + ": " + (System.nanoTime() - start) / 1_000_000 + " ms, " + moved.get() + " bytes, "
            + stats(quic)), 2, 2, TimeUnit.SECONDS);
    long got;
    try {
      got = transfer.run(moved);
    } finally {
      watch.cancel(false);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (got != bytes) {
      throw new IllegalStateException(rung + ": received " + got + " of " + bytes + " bytes");
    }
    ResultLine line = new ResultLine().put("rung", rung).put("bytes", bytes)
        .put("seconds", seconds, 3).put("mbit_s", ResultLine.gbitPerSecond(bytes, seconds) * 1000, 0);
    ThreadCpu.between(cpuBefore, ThreadCpu.now(), seconds).forEach((name, cores) -> line.put(name, cores, 2));
    line.put("udp_rcvbuf_errors", UdpCounters.now().rcvbufErrors() - udpBefore.rcvbufErrors());
    QuicConnectionStats st = quic.collectStats().get(1, TimeUnit.SECONDS);
    QuicConnectionStats back = receiverSide.get(1, TimeUnit.SECONDS).collectStats().get(1, TimeUnit.SECONDS);
    return line.put("sent_pkts", st.sent()).put("lost_pkts", st.lost()).put("receiver_sent_pkts", back.sent());
  }

  /** The sender's view of its connection, for the progress lines on stderr. */
  private static String stats(QuicChannel quic) {
    try {
      QuicConnectionStats c = quic.collectStats().get(1, TimeUnit.SECONDS);
      QuicConnectionPathStats p = quic.collectPathStats(0).get(1, TimeUnit.SECONDS);
      return "sent=" + c.sent() + " lost=" + c.lost() + " cwnd=" + p.cwnd() + " rtt=" + p.rtt() / 1000 + "us delivery="
          + p.deliveryRate() * 8 / 1_000_000 + "Mbit/s";
    } catch (Exception e) {
      return "no stats: " + e;
    }
  }

  /** One end: an event loop of its own, a UDP socket as a session binds it, optionally the path handlers. */
  private static final class Side implements AutoCloseable {
    final EventLoopGroup group;
    final PeerPath path = new PeerPath();
    final TlsIdentity tls = TlsIdentity.generate();
    final DatagramChannel udp;

    Side(String name, boolean withPath, int role) throws Exception {
      group = EventLoops.newGroup(1, name);
      udp = QuicTransport.bind(group, new InetSocketAddress("127.0.0.1", 0), path);
      if (withPath) {
        DirectPath direct = new DirectPath(udp.eventLoop(), new byte[32], role, path, new DirectPath.Listener() {
          @Override
          public void onDirect(InetSocketAddress endpoint, Duration rtt, String why) {}

          @Override
          public void onRelay(String why) {}
        });
        udp.pipeline().addBefore(QuicTransport.PATH, "direct-path", direct);
      } else {
        udp.pipeline().remove(QuicTransport.PATH);
        // Cutting QUIC's packets (up to MAX_UDP_PAYLOAD) into 1350-byte segments is the path's
        // job; without it they go out whole, so each read must take a whole datagram too.
        if (udp.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 0)) {
          udp.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(QuicTransport.MAX_UDP_PAYLOAD));
        }
      }
    }

    InetSocketAddress address() {
      return (InetSocketAddress) udp.localAddress();
    }

    /** What a promotion does, without the probes: send to the peer's socket and accept from it. */
    void goDirectTo(Side peer) {
      path.trust(peer.address());
      path.direct(peer.address());
    }

    @Override
    public void close() {
      udp.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
  }

  /** Writes {@code bytes} from the event loop whenever the stream can take more, then FIN. */
  private static final class EventLoopWriter extends ChannelInboundHandlerAdapter {
    private final ByteBuf chunk = Unpooled.directBuffer(CHUNK);
    private final AtomicLong written;
    private long remaining;
    private ChannelFuture last;

    EventLoopWriter(long bytes, AtomicLong written) {
      this.remaining = bytes;
      this.written = written;
      byte[] random = new byte[CHUNK];
      new SplittableRandom(42).nextBytes(random);
      chunk.writeBytes(random);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      pump(ctx);
      ctx.fireChannelActive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      pump(ctx);
      ctx.fireChannelWritabilityChanged();
    }

    private void pump(ChannelHandlerContext ctx) {
      if (remaining == 0) {
        return;
      }
      while (remaining > 0 && ctx.channel().isWritable()) {
        int n = (int) Math.min(CHUNK, remaining);
        last = ctx.write(chunk.retainedSlice(0, n));
        remaining -= n;
        written.addAndGet(n);
      }
      ctx.flush();
      if (remaining == 0) {
        // FIN only after the last write was taken, as a task of its own (java-deps.md §1).
        last.addListener(f -> ctx.executor().execute(() -> ((QuicStreamChannel) ctx.channel()).shutdownOutput()));
        chunk.release();
      }
    }
  }

  /** Counts and drops what arrives; completes with the count at the sender's FIN. */
  private static final class Sink extends ChannelInboundHandlerAdapter {
    private final CompletableFuture<Long> done;
    private long bytes;

    Sink(CompletableFuture<Long> done) {
      this.done = done;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      bytes += b.readableBytes();
      b.release();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownReadComplete) {
        done.complete(bytes);
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  /** {@code total} pseudo-random bytes, as fast as memory copies them (stdin without the pipe). */
  private static final class GeneratedInput extends InputStream {
    private final byte[] pattern = new byte[1 << 20];
    private long remaining;
    private int at;

    GeneratedInput(long total) {
      this.remaining = total;
      new SplittableRandom(7).nextBytes(pattern);
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (remaining == 0) {
        return -1;
      }
      int n = (int) Math.min(Math.min(len, remaining), pattern.length - at);
      System.arraycopy(pattern, at, b, off, n);
      at = (at + n) % pattern.length;
      remaining -= n;
      return n;
    }
  }

  /** stdout without the pipe: counts and forgets. */
  private static final class CountingOutput extends OutputStream {
    @Override
    public void write(int b) {}

    @Override
    public void write(byte[] b, int off, int len) {}
  }

  private static ChannelHandler oneStream(ChannelHandler handler) {
    return new ChannelInitializer<QuicStreamChannel>() {
      private boolean taken;

      @Override
      protected void initChannel(QuicStreamChannel ch) {
        if (!taken) {
          taken = true;
          ch.pipeline().addLast(handler);
        } else {
          ch.close();
        }
      }
    };
  }

  /** The server's connection handler: hands out the connection for its stats. */
  private static final class Accepted extends ChannelInboundHandlerAdapter {
    private final CompletableFuture<QuicChannel> quic;

    Accepted(CompletableFuture<QuicChannel> quic) {
      this.quic = quic;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      quic.complete((QuicChannel) ctx.channel());
      ctx.fireChannelActive();
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  private static ChannelHandler noop() {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public boolean isSharable() {
        return true;
      }
    };
  }
}
