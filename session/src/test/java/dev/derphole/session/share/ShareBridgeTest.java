package dev.derphole.session.share;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.LoopbackRelay;
import dev.derphole.session.Reporter;
import dev.derphole.session.SessionOptions;
import dev.derphole.session.token.Capability;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real sockets through a real session: a client socket → {@link OpenListener} → QUIC (through a
 * DERP server on loopback, then direct) → {@link ShareServer} → a target socket, with
 * {@link TcpStreamBridge} at both ends. Alice is the client, Bob's server is the target.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ShareBridgeTest {
  static final int SECONDS = 30;

  private LoopbackRelay relay;
  private IssuedSession share;
  private ClaimedSession open;
  private OpenListener listener;
  private ShareServer server;
  private Target target;
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "share-test");
    t.setDaemon(true);
    return t;
  });
  private final BlockingQueue<String> refusals = new LinkedBlockingQueue<>();
  private final List<Integer> shareCounts = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    // epoll where available, as in the commands
    relay = LoopbackRelay.start(dev.derphole.derp.io.EventLoops.newGroup(2, "share-test-io"));
  }

  @AfterEach
  void stop() throws Exception {
    if (listener != null) {
      listener.close();
    }
    if (open != null) {
      open.close();
    }
    if (share != null) {
      share.close();
    }
    if (target != null) {
      target.close();
    }
    pool.shutdownNow();
    relay.close();
  }

  private SessionOptions options() {
    return relay.options(Reporter.SILENT, false, Duration.ofSeconds(10));
  }

  private final ConnectionEvents events = refusalsTo(refusals);

  /** Events that keep only the refusals, in {@code queue}. */
  static ConnectionEvents refusalsTo(BlockingQueue<String> queue) {
    return new ConnectionEvents() {
      @Override
      public void opened(int n) {}

      @Override
      public void closed(int n) {}

      @Override
      public void refused(String why) {
        queue.add(why);
      }
    };
  }

  /** share → target port; open with {@code max} connections; returns the address clients dial. */
  private InetSocketAddress connect(int targetPort, int max) throws Exception {
    server = new ShareServer(InetSocketAddress.createUnresolved("127.0.0.1", targetPort), new ConnectionEvents() {
      @Override
      public void opened(int n) {
        shareCounts.add(n);
      }

      @Override
      public void closed(int n) {
        shareCounts.add(n);
      }

      @Override
      public void refused(String why) {
        refusals.add("share: " + why);
      }
    });
    share = IssuedSession.open(Capability.SHARE, options(), server.streamHandler());
    listener = OpenListener.bind(relay.group(), new InetSocketAddress("127.0.0.1", 0), max, events);
    open = ClaimedSession.claim(share.token(), options(), null);
    listener.start(open.connection());
    share.awaitConnection();
    return listener.localAddress();
  }

  // ------------------------------------------------------------------------------- tests

  @Test
  void bytesGoBothWaysIntactOverManySequentialConnections() throws Exception {
    target = Target.start(Target::echo);
    InetSocketAddress at = connect(target.port(), 16);
    Random random = new Random(1);
    for (int i = 0; i < 20; i++) {
      byte[] data = new byte[1 + random.nextInt(300_000)];
      random.nextBytes(data);
      assertThat(exchange(at, data)).as("connection %d", i).isEqualTo(sha256(data));
    }
  }

  /**
   * A client that writes a few bytes and its FIN before the listener has even bridged it: with
   * epoll those arrive as soon as the socket is registered, before the stream exists (they were
   * once dropped). Many rounds, since it depends on timing.
   */
  @Test
  void tinyRequestsWithAnImmediateFinArriveEveryTime() throws Exception {
    target = Target.start(Target::echo);
    InetSocketAddress at = connect(target.port(), 16);
    for (int i = 0; i < 150; i++) {
      byte[] data = ("tiny " + i).getBytes(StandardCharsets.US_ASCII);
      assertThat(exchange(at, data)).as("round %d", i).isEqualTo(sha256(data));
    }
  }

  @Test
  void aTargetThatSpeaksAndHangsUpAtOnceIsHeardEveryTime() throws Exception {
    target = Target.start(s -> {
      s.getOutputStream().write("bye\n".getBytes(StandardCharsets.US_ASCII));
      s.shutdownOutput();
    });
    InetSocketAddress at = connect(target.port(), 16);
    for (int i = 0; i < 50; i++) {
      try (Socket alice = new Socket(at.getAddress(), at.getPort())) {
        alice.setSoTimeout(SECONDS * 1000);
        alice.shutdownOutput();
        assertThat(alice.getInputStream().readAllBytes()).as("round %d", i).asString(StandardCharsets.US_ASCII)
            .isEqualTo("bye\n");
      }
    }
  }

  @Test
  void aLargeTransferKeepsItsOrderAndEveryByte() throws Exception {
    target = Target.start(Target::echo);
    InetSocketAddress at = connect(target.port(), 16);
    byte[] data = new byte[24 << 20];
    new Random(2).nextBytes(data);
    assertThat(exchange(at, data)).isEqualTo(sha256(data));
  }

  @Test
  void theTargetCanSpeakFirst() throws Exception {
    target = Target.start(s -> {
      s.getOutputStream().write("220 bob ESMTP ready\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      for (int b; (b = in.read()) != '\n' && b >= 0; ) {
        got.write(b);
      }
      s.getOutputStream().write(("250 hello " + got.toString(StandardCharsets.US_ASCII).trim() + "\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
    });
    InetSocketAddress at = connect(target.port(), 16);
    try (Socket alice = new Socket(at.getAddress(), at.getPort())) {
      alice.setSoTimeout(SECONDS * 1000);
      // Alice writes nothing until the greeting arrived.
      assertThat(readLine(alice.getInputStream())).isEqualTo("220 bob ESMTP ready");
      alice.getOutputStream().write("HELO alice\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readLine(alice.getInputStream())).isEqualTo("250 hello HELO alice");
    }
  }

  /** Half-close races the last writes in Netty's QUIC (docs/architecture.md): run it many times. */
  @RepeatedTest(8)
  void aClientThatShutsItsWriteSideStillGetsTheWholeReply() throws Exception {
    byte[] reply = new byte[3 << 20];
    new Random(3).nextBytes(reply);
    target = Target.start(s -> {
      byte[] request = s.getInputStream().readAllBytes(); // until the client's FIN
      OutputStream out = s.getOutputStream();
      out.write(sha256(request).getBytes(StandardCharsets.US_ASCII));
      out.write(reply);
      out.flush();
      s.shutdownOutput();
    });
    InetSocketAddress at = connect(target.port(), 16);
    byte[] request = "GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    try (Socket alice = new Socket(at.getAddress(), at.getPort())) {
      alice.setSoTimeout(SECONDS * 1000);
      alice.getOutputStream().write(request);
      alice.shutdownOutput();
      byte[] got = alice.getInputStream().readAllBytes();
      assertThat(new String(got, 0, 64, StandardCharsets.US_ASCII)).isEqualTo(sha256(request));
      assertThat(sha256(java.util.Arrays.copyOfRange(got, 64, got.length))).isEqualTo(sha256(reply));
    }
  }

  @Test
  void aTargetThatAnswersAHalfClosedClientAndWaitsStillDeliversTheLastByte() throws Exception {
    // The bridge keeps the last byte back for a FIN to ride on once the client has half-closed;
    // a target that answers and then waits for the client must still get it through.
    CountDownLatch heard = new CountDownLatch(1);
    target = Target.start(s -> {
      s.getInputStream().readAllBytes(); // until the client's FIN
      s.getOutputStream().write("ready\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      assertThat(heard.await(SECONDS, TimeUnit.SECONDS)).isTrue();
      s.getOutputStream().write("bye\n".getBytes(StandardCharsets.US_ASCII));
      s.shutdownOutput();
    });
    InetSocketAddress at = connect(target.port(), 16);
    try (Socket alice = new Socket(at.getAddress(), at.getPort())) {
      alice.setSoTimeout(SECONDS * 1000);
      alice.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
      alice.shutdownOutput();
      assertThat(readLine(alice.getInputStream())).isEqualTo("ready");
      heard.countDown();
      assertThat(readLine(alice.getInputStream())).isEqualTo("bye");
      assertThat(alice.getInputStream().read()).isEqualTo(-1);
    }
  }

  @Test
  void theTargetHalfClosingFirstStillLetsTheClientFinishSending() throws Exception {
    CompletableFuture<String> received = new CompletableFuture<>();
    target = Target.start(s -> {
      s.getOutputStream().write("send me everything\n".getBytes(StandardCharsets.US_ASCII));
      s.shutdownOutput(); // nothing more from the target, but it keeps reading
      received.complete(sha256(s.getInputStream().readAllBytes()));
    });
    InetSocketAddress at = connect(target.port(), 16);
    byte[] upload = new byte[2 << 20];
    new Random(4).nextBytes(upload);
    try (Socket alice = new Socket(at.getAddress(), at.getPort())) {
      alice.setSoTimeout(SECONDS * 1000);
      assertThat(alice.getInputStream().readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("send me everything\n");
      alice.getOutputStream().write(upload);
      alice.shutdownOutput();
      assertThat(received.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(sha256(upload));
    }
  }

  @Test
  void aRefusingTargetClosesThatConnectionOnlyAndTheNextOneWorksOnceItIsBack() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    InetSocketAddress at = connect(port, 16);
    try (Socket alice = new Socket(at.getAddress(), at.getPort())) {
      alice.setSoTimeout(SECONDS * 1000);
      assertThat(endOfStream(alice)).as("the client's connection ends").isTrue();
    }
    assertThat(refusals.poll(SECONDS, TimeUnit.SECONDS)).isEqualTo("share: cannot connect to 127.0.0.1:" + port + ": Connection refused");
    target = Target.start(port, Target::echo);
    byte[] data = "after the restart".getBytes(StandardCharsets.US_ASCII);
    assertThat(exchange(at, data)).isEqualTo(sha256(data));
    assertThat(open.connection().isActive()).isTrue();
  }

  @Test
  void aTargetThatDiesMidConnectionEndsThatConnectionOnly() throws Exception {
    CountDownLatch greeted = new CountDownLatch(1);
    target = Target.start(s -> {
      if (greeted.getCount() > 0) {
        s.getInputStream().read();
        greeted.countDown();
        s.setSoLinger(true, 0); // reset, as a crashing server's kernel would
        s.close();
        return;
      }
      Target.echo(s);
    });
    InetSocketAddress at = connect(target.port(), 16);
    try (Socket alice = new Socket(at.getAddress(), at.getPort())) {
      alice.setSoTimeout(SECONDS * 1000);
      alice.getOutputStream().write('?');
      assertThat(endOfStream(alice)).isTrue();
      assertThat(greeted.await(SECONDS, TimeUnit.SECONDS)).isTrue();
    }
    byte[] data = new byte[100_000];
    new Random(5).nextBytes(data);
    assertThat(exchange(at, data)).isEqualTo(sha256(data));
  }

  @Test
  void aTargetThatResetsMidReplyResetsTheClientInsteadOfEndingCleanly() throws Exception {
    target = Target.start(s -> {
      s.getOutputStream().write(new byte[300_000]);
      s.getOutputStream().flush();
      s.setSoLinger(true, 0); // reset, as a crashing server's kernel would
      s.close();
    });
    InetSocketAddress at = connect(target.port(), 16);
    try (Socket alice = new Socket(at.getAddress(), at.getPort())) {
      alice.setSoTimeout(SECONDS * 1000);
      // A clean end here would let a client take the cut-off reply for a whole one.
      assertThatThrownBy(() -> alice.getInputStream().readAllBytes()).isInstanceOf(SocketException.class);
    }
  }

  @Test
  void twoHundredConcurrentConnectionsEachGetTheirOwnBytesBack() throws Exception {
    target = Target.start(Target::echo);
    InetSocketAddress at = connect(target.port(), 512);
    List<Future<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      int seed = i;
      results.add(pool.submit(() -> {
        byte[] data = new byte[20_000 + new Random(seed).nextInt(60_000)];
        new Random(seed).nextBytes(data);
        return exchange(at, data).equals(sha256(data));
      }));
    }
    for (Future<Boolean> r : results) {
      assertThat(r.get(SECONDS * 2, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void aClientThatStopsReadingDoesNotStallTheOthers() throws Exception {
    byte[] chunk = new byte[64 << 10];
    target = Target.start(s -> {
      int first = s.getInputStream().read();
      if (first == 'F') { // flood: write until the bridge pushes back and the socket dies
        OutputStream out = s.getOutputStream();
        while (true) {
          out.write(chunk);
        }
      }
      s.getOutputStream().write(first);
      Target.echo(s);
    });
    InetSocketAddress at = connect(target.port(), 16);
    try (Socket stalled = new Socket(at.getAddress(), at.getPort())) {
      stalled.setReceiveBufferSize(4096);
      stalled.getOutputStream().write('F'); // and never reads
      for (int i = 0; i < 10; i++) {
        byte[] data = new byte[200_000];
        new Random(i).nextBytes(data);
        data[0] = 'x';
        assertThat(exchange(at, data)).isEqualTo(sha256(data));
      }
    }
  }

  @Test
  void overTheLimitANewConnectionIsResetWithAReasonAndFreedSlotsAreReused() throws Exception {
    target = Target.start(Target::echo);
    InetSocketAddress at = connect(target.port(), 2);
    try (Socket a = new Socket(at.getAddress(), at.getPort()); Socket b = new Socket(at.getAddress(), at.getPort())) {
      for (Socket s : List.of(a, b)) { // both bridged: an echo went round
        s.setSoTimeout(SECONDS * 1000);
        s.getOutputStream().write('1');
        assertThat(s.getInputStream().read()).isEqualTo('1');
      }
      try (Socket c = new Socket(at.getAddress(), at.getPort())) {
        c.setSoTimeout(SECONDS * 1000);
        assertThat(endOfStream(c)).isTrue();
      }
      assertThat(refusals.poll(SECONDS, TimeUnit.SECONDS)).isEqualTo("connection limit reached (2 open); resetting a new connection");
    }
    // the closes above reach the listener asynchronously
    await("a slot frees up").atMost(Duration.ofSeconds(SECONDS)).until(() -> listener.openConnections() <= 1);
    byte[] data = "a slot is free again".getBytes(StandardCharsets.US_ASCII);
    assertThat(exchange(at, data)).isEqualTo(sha256(data));
  }

  @Test
  void aStreamWithoutTheHeaderIsRefusedAndTheSessionLivesOn() throws Exception {
    target = Target.start(Target::echo);
    InetSocketAddress at = connect(target.port(), 16);
    CompletableFuture<Boolean> ended = new CompletableFuture<>();
    io.netty.handler.codec.quic.QuicStreamChannel rogue = open.connection()
        .createStream(io.netty.handler.codec.quic.QuicStreamType.BIDIRECTIONAL, new io.netty.channel.ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            io.netty.util.ReferenceCountUtil.release(msg);
            ended.complete(false); // the sharer must not answer
          }

          @Override
          public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
              ended.complete(true);
            }
          }

          @Override
          public void channelInactive(io.netty.channel.ChannelHandlerContext ctx) {
            ended.complete(true);
          }

          @Override
          public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
            ended.complete(true); // a reset (RESET_STREAM) ends it too
          }
        })
        .get(SECONDS, TimeUnit.SECONDS);
    rogue.writeAndFlush(io.netty.buffer.Unpooled.copiedBuffer("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII));
    assertThat(ended.get(SECONDS, TimeUnit.SECONDS)).as("the sharer ends the rogue stream without a byte").isTrue();
    assertThat(refusals.poll(SECONDS, TimeUnit.SECONDS)).startsWith("share: refused a stream from the other side: not a forwarded");
    byte[] data = "still fine".getBytes(StandardCharsets.US_ASCII);
    assertThat(exchange(at, data)).isEqualTo(sha256(data));
  }

  @Test
  void everyBridgeEndsAndTheCountsReturnToZero() throws Exception {
    target = Target.start(Target::echo);
    InetSocketAddress at = connect(target.port(), 16);
    for (int i = 0; i < 5; i++) {
      exchange(at, new byte[] {(byte) i});
    }
    // An abrupt client: a reset instead of a FIN.
    Socket rude = new Socket(at.getAddress(), at.getPort());
    rude.getOutputStream().write('x');
    rude.setSoTimeout(SECONDS * 1000);
    assertThat(rude.getInputStream().read()).isEqualTo('x');
    rude.setSoLinger(true, 0);
    rude.close();
    await("every connection closes on both sides").atMost(Duration.ofSeconds(SECONDS)).until(() ->
        listener.openConnections() == 0 && target.open() == 0 && server.openConnections() == 0
            && shareCounts.size() >= 12);
  }

  /**
   * A finished TCP connection closes at once, while its stream's FIN still waits ({@link
   * dev.derphole.transport.quic.StreamFin} holds a FIN back for a while once the far end has
   * finished): it used to stay open, and count against the connection limit, for that whole wait,
   * so that under many short connections (HTTP with {@code Connection: close}, 200 at once) most
   * new ones were reset. The far end still gets the FIN afterwards.
   */
  @Test
  void aConnectionDoneBothWaysClosesBeforeItsStreamsFinGoesOutAndTheFinStillArrives() throws Exception {
    CompletableFuture<Void> finArrived = new CompletableFuture<>();
    share = IssuedSession.open(Capability.SHARE, options(), new io.netty.channel.ChannelInitializer<io.netty.handler.codec.quic.QuicStreamChannel>() {
      @Override
      protected void initChannel(io.netty.handler.codec.quic.QuicStreamChannel ch) {
        ch.config().setAllowHalfClosure(true);
        ch.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
          boolean answered;

          @Override
          public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            io.netty.util.ReferenceCountUtil.release(msg);
            if (!answered) { // the server speaks and hangs up, as HTTP with Connection: close does
              answered = true;
              ctx.writeAndFlush(new io.netty.handler.codec.quic.DefaultQuicStreamFrame(
                  io.netty.buffer.Unpooled.copiedBuffer("bye", StandardCharsets.US_ASCII), true));
            }
          }

          @Override
          public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
              finArrived.complete(null);
            }
          }
        });
      }
    });
    open = ClaimedSession.claim(share.token(), options(), null);
    share.awaitConnection();
    io.netty.handler.codec.quic.QuicStreamChannel stream = open.connection().newStreamBootstrap()
        .type(io.netty.handler.codec.quic.QuicStreamType.BIDIRECTIONAL)
        .option(io.netty.channel.ChannelOption.AUTO_READ, false)
        .handler(new io.netty.channel.ChannelInboundHandlerAdapter())
        .create().get(SECONDS, TimeUnit.SECONDS);
    try (ServerSocket accept = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      io.netty.channel.Channel tcp = new io.netty.bootstrap.Bootstrap()
          .group(relay.group())
          .channel(dev.derphole.derp.io.EventLoops.socket(relay.group()))
          .option(io.netty.channel.ChannelOption.AUTO_READ, false)
          .handler(new io.netty.channel.ChannelInboundHandlerAdapter())
          .connect(accept.getLocalSocketAddress()).sync().channel();
      CompletableFuture<Boolean> finSentAtTcpClose = new CompletableFuture<>();
      tcp.closeFuture().addListener(f -> finSentAtTcpClose.complete(stream.isOutputShutdown()));
      try (Socket client = accept.accept()) {
        client.setSoTimeout(SECONDS * 1000);
        TcpStreamBridge.join((io.netty.channel.socket.DuplexChannel) tcp, stream);
        client.getOutputStream().write("hi".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("bye");
        client.shutdownOutput(); // done both ways
        assertThat(finSentAtTcpClose.get(SECONDS, TimeUnit.SECONDS)).as("our FIN already sent when TCP closed").isFalse();
      }
      finArrived.get(SECONDS, TimeUnit.SECONDS);
    }
  }

  // ------------------------------------------------------------------------------- helpers

  /** Sends {@code data}, half-closes, reads the echo to its end; returns its SHA-256. */
  private static String exchange(InetSocketAddress at, byte[] data) throws Exception {
    try (Socket s = new Socket(at.getAddress(), at.getPort())) {
      s.setSoTimeout(SECONDS * 1000);
      CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
        try {
          s.getOutputStream().write(data);
          s.shutdownOutput();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      String hash = sha256(s.getInputStream().readAllBytes());
      writing.get(SECONDS, TimeUnit.SECONDS);
      return hash;
    }
  }

  /** True when the connection ends (FIN or reset) with no byte arriving first. */
  static boolean endOfStream(Socket s) throws IOException {
    try {
      return s.getInputStream().read() < 0;
    } catch (SocketException reset) {
      return true;
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new IOException("connection ended after \"" + line + "\"");
      }
      line.write(b);
    }
    return line.toString(StandardCharsets.US_ASCII).trim();
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** A blocking TCP server on 127.0.0.1, one thread per connection, closed with the test. */
  static final class Target implements AutoCloseable {
    interface Conversation {
      void run(Socket s) throws Exception;
    }

    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();

    private Target(ServerSocket server, Conversation conversation) {
      this.server = server;
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            Socket s = server.accept();
            sockets.add(s);
            open.incrementAndGet();
            Thread t = new Thread(() -> {
              try (s) {
                conversation.run(s);
              } catch (Exception e) {
                // the client went away: part of several tests
              } finally {
                open.decrementAndGet();
              }
            }, "target-conn");
            t.setDaemon(true);
            t.start();
          } catch (IOException closed) {
            return;
          }
        }
      }, "target-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    static Target start(Conversation c) throws IOException {
      return start(0, c);
    }

    static Target start(int port, Conversation c) throws IOException {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", port), 512);
      return new Target(s, c);
    }

    /** Copies what arrives back until the client's FIN, then half-closes. */
    static void echo(Socket s) throws IOException {
      s.getInputStream().transferTo(s.getOutputStream());
      s.shutdownOutput();
    }

    int port() {
      return server.getLocalPort();
    }

    int open() {
      return open.get();
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
