package dev.derphole.transport.peer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import dev.derphole.derp.stun.StunServer;
import dev.derphole.transport.path.DatagramCut;
import dev.derphole.transport.quic.QuicTransport;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two peer connections and a real DERP server on loopback, no token and no session: the relay
 * link is a plain DERP client, and the candidate signal hands the list straight to the other
 * side (a session seals it into a control message; here nobody is on the path to read it).
 */
class PeerConnectionTest {
  private static final byte[] DISCO_KEY = new byte[32];

  static {
    java.util.Arrays.fill(DISCO_KEY, (byte) 0x3c);
  }

  private EventLoopGroup group;
  private DerpServer relay;
  private final List<AutoCloseable> closeMe = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    relay = DerpServer.start(DerpServerConfig.builder().build());
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closeMe.size() - 1; i >= 0; i--) {
      closeMe.get(i).close();
    }
    relay.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** One peer: its connection, and a DERP client as the relay link. */
  final class Peer implements DerpClientListener {
    final NodePrivateKey key = NodePrivateKey.generate();
    final TlsIdentity tls = TlsIdentity.generate();
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    final List<String> lines = new CopyOnWriteArrayList<>();
    final List<List<String>> signalled = new CopyOnWriteArrayList<>();
    final List<ByteBuf> batch = new ArrayList<>();
    final DatagramCut cut = new DatagramCut();
    PeerConnection connection;
    DerpClient derp;

    Peer open(boolean forceRelay, boolean allowLoopback) throws Exception {
      return open(forceRelay, allowLoopback, new InetSocketAddress("127.0.0.1", 0));
    }

    /** {@code bind} null: as a session binds, every address of both families. */
    Peer open(boolean forceRelay, boolean allowLoopback, InetSocketAddress bind) throws Exception {
      var loop = group.next();
      PeerConnection.Options options = new PeerConnection.Options(forceRelay, allowLoopback, (name, detail) -> {
        lines.add(name + " " + detail); // before the event, which a test may be waiting for
        events.add(name);
      });
      connection = bind == null ? PeerConnection.open(loop, options) : PeerConnection.open(loop, bind, options);
      closeMe.add(connection);
      connection.channel().pipeline().addFirst("cut", cut);
      derp = DerpClient.connect(DerpEndpoint.of(URI.create("http://127.0.0.1:" + relay.localAddress().getPort())),
          key, this, loop, DerpClient.Options.defaults());
      closeMe.add(derp);
      return this;
    }

    /** Relayed QUIC goes to {@code other}'s DERP key. */
    void relayTo(Peer other) {
      NodePublicKey to = other.key.publicKey();
      connection.relay(buf -> derp.sendDatagram(to, buf));
    }

    /** Our candidates reach {@code other} from now on. */
    void signalTo(Peer other) {
      connection.signal(candidates -> {
        signalled.add(candidates);
        other.connection.addRemoteCandidates(candidates);
      });
    }

    @Override
    public void onPacket(NodePublicKey source, ByteBuf packet) {
      batch.add(packet.retain());
    }

    @Override
    public void onReadComplete() {
      if (!batch.isEmpty()) {
        connection.fromRelay(new ArrayList<>(batch));
        batch.clear();
      }
    }

    /** The next connected-direct / connected-relay event, skipping candidate and portmap ones. */
    String nextPathEvent() throws InterruptedException {
      while (true) {
        String e = events.poll(30, TimeUnit.SECONDS);
        assertThat(e).as("a path event").isNotNull();
        if (e.startsWith("connected-")) {
          return e;
        }
      }
    }
  }

  /** Counts and hashes a stream's bytes until its FIN. */
  static final class Sink extends ChannelInboundHandlerAdapter {
    final MessageDigest sha;
    final CompletableFuture<String> done = new CompletableFuture<>();

    Sink() throws Exception {
      sha = MessageDigest.getInstance("SHA-256");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      sha.update(b.nioBuffer());
      b.release();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownReadComplete) {
        done.complete(HexFormat.of().formatHex(sha.digest()));
      }
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  private static final ChannelHandler NOOP = new ChannelInboundHandlerAdapter() {
    @Override
    public boolean isSharable() {
      return true;
    }
  };

  /** Alice dials QUIC to bob (bob serves into {@code sink}); both paths learn the connection. */
  private QuicChannel quic(Peer alice, Peer bob, Sink sink) throws Exception {
    ChannelHandler bobsConnection = new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        bob.connection.path().quic((QuicChannel) ctx.channel());
      }

      @Override
      public boolean isSharable() {
        return true;
      }
    };
    QuicTransport.serve(bob.connection.channel(), bob.tls, alice.tls.publicKey(), bobsConnection, sink);
    QuicChannel q = QuicTransport.connect(alice.connection.channel(), alice.connection.path(), alice.tls,
        bob.tls.publicKey(), NOOP, NOOP).get(10, TimeUnit.SECONDS);
    alice.connection.path().quic(q);
    return q;
  }

  private Peer[] pair(boolean forceRelay) throws Exception {
    Peer alice = new Peer().open(forceRelay, true);
    Peer bob = new Peer().open(forceRelay, true);
    alice.relayTo(bob);
    bob.relayTo(alice);
    alice.connection.startDirect(DISCO_KEY, false, List.of());
    bob.connection.startDirect(DISCO_KEY, true, List.of());
    return new Peer[] {alice, bob};
  }

  @Test
  void aConnectionThatStartsOnTheRelayMovesToTheDirectPathOnceCandidatesAreSignalled() throws Exception {
    Peer[] p = pair(false);
    Peer alice = p[0];
    Peer bob = p[1];
    Sink sink = new Sink();
    QuicChannel q = quic(alice, bob, sink);
    assertThat(alice.connection.pathDescription()).as("no candidates yet: QUIC's handshake went by the relay")
        .isEqualTo("via relay");
    assertThat(alice.connection.path().relayedPackets()).isPositive();

    alice.signalTo(bob);
    bob.signalTo(alice);
    assertThat(alice.signalled.get(0)).as("our interface addresses, loopback allowed here").isNotEmpty();
    assertThat(alice.nextPathEvent()).isEqualTo("connected-direct");
    assertThat(bob.nextPathEvent()).isEqualTo("connected-direct");
    assertThat(alice.connection.pathDescription()).startsWith("via direct ");
    assertThat(alice.lines).filteredOn(l -> l.startsWith("connected-direct "))
        .allMatch(l -> l.matches("connected-direct \\d+\\.\\d+\\.\\d+\\.\\d+:\\d+ rtt=.*"), "IP:PORT, no slash");

    long relayedBefore = alice.connection.path().relayedPackets();
    String sent = send(q, 8 << 20, null);
    assertThat(sink.done.get(60, TimeUnit.SECONDS)).isEqualTo(sent);
    assertThat(alice.connection.path().relayedPackets()).as("the data went direct, not by the relay")
        .isLessThan(relayedBefore + 100);
    assertThat(bob.connection.path().quicHeard()).as("bob's path heard QUIC over the direct path").isPositive();
  }

  @Test
  void aDirectPathCutMidTransferFallsBackToTheRelayAndTheTransferCompletesIntact() throws Exception {
    Peer[] p = pair(false);
    Peer alice = p[0];
    Peer bob = p[1];
    alice.signalTo(bob);
    bob.signalTo(alice);
    assertThat(alice.nextPathEvent()).isEqualTo("connected-direct");
    Sink sink = new Sink();
    QuicChannel q = quic(alice, bob, sink);
    String sent = send(q, 24 << 20, () -> {
      alice.cut.cut = true;
      bob.cut.cut = true;
      try {
        assertThat(alice.nextPathEvent()).isEqualTo("connected-relay");
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    });
    assertThat(sink.done.get(60, TimeUnit.SECONDS)).isEqualTo(sent);
    assertThat(alice.lines).anyMatch(l -> l.matches("connected-relay \\(nothing from \\d+\\.\\d+\\.\\d+\\.\\d+:\\d+ for 5 s\\)"));
    assertThat(alice.connection.pathDescription()).isEqualTo("via relay");
    assertThat(alice.connection.path().overlapPackets())
        .as("while the direct path was silent, packets also went by the relay").isPositive();
  }

  @Test
  void theSocketTakesBothFamiliesAndAPeerReachableOnlyOverIpv6IsReachedDirectly() throws Exception {
    ipv6Direct();
  }

  @Test
  void withEpollTooThePeerIsReachedOverIpv6() throws Exception {
    assertThat(io.netty.channel.epoll.Epoll.isAvailable()).as("Linux epoll (this test needs Linux)").isTrue();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    group = dev.derphole.derp.io.EventLoops.newGroup(2, "peer-connection-test");
    ipv6Direct();
  }

  /** Both bound as a session binds; each knows the other only at [::1]: the direct path is IPv6. */
  private void ipv6Direct() throws Exception {
    Peer alice = new Peer().open(false, true, null);
    Peer bob = new Peer().open(false, true, null);
    alice.relayTo(bob);
    bob.relayTo(alice);
    alice.connection.startDirect(DISCO_KEY, false, List.of());
    bob.connection.startDirect(DISCO_KEY, true, List.of());
    int bobPort = bob.connection.channel().localAddress().getPort();
    alice.connection.addRemoteCandidates(List.of("[::1]:" + bobPort));
    assertThat(alice.nextPathEvent()).isEqualTo("connected-direct");
    assertThat(alice.lines).anyMatch(l -> l.startsWith("connected-direct [::1]:" + bobPort + " rtt="));
    assertThat(bob.nextPathEvent()).isEqualTo("connected-direct");
    Sink sink = new Sink();
    QuicChannel q = quic(alice, bob, sink);
    long relayedBefore = alice.connection.path().relayedPackets();
    String sent = send(q, 4 << 20, null);
    assertThat(sink.done.get(60, TimeUnit.SECONDS)).isEqualTo(sent);
    assertThat(alice.connection.pathDescription()).isEqualTo("via direct [::1]:" + bobPort);
    assertThat(alice.connection.path().relayedPackets()).as("the data went over IPv6, not by the relay")
        .isLessThan(relayedBefore + 100);
  }

  @Test
  void whileNotDirectOurCandidatesAreSignalledAgainAndAgain() throws Exception {
    Peer alice = new Peer().open(false, true);
    alice.connection.startDirect(DISCO_KEY, false, List.of());
    alice.connection.signal(alice.signalled::add);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4 * PeerConnection.CANDIDATE_RESEND_SECONDS);
    while (alice.signalled.size() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(50); // polls for the resend; nothing here is timed
    }
    assertThat(alice.signalled).as("the first list at once, then the same again: a lost signal costs nothing")
        .hasSizeGreaterThanOrEqualTo(2);
    assertThat(alice.signalled.get(1)).isEqualTo(alice.signalled.get(0));
  }

  @Test
  void aStunAnswerFromTheSocketBecomesACandidateAndIsSignalled() throws Exception {
    StunServer stun = StunServer.start(new InetSocketAddress("127.0.0.1", 0), group);
    closeMe.add(stun);
    // Without loopback candidates, 127.0.0.1 can only come from STUN's answer.
    Peer alice = new Peer().open(false, false);
    alice.connection.signal(alice.signalled::add);
    alice.connection.startDirect(DISCO_KEY, false, List.of(stun.localAddress()));
    String mine = "127.0.0.1:" + alice.connection.channel().localAddress().getPort();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (alice.signalled.stream().noneMatch(l -> l.contains(mine)) && System.nanoTime() < deadline) {
      Thread.sleep(20); // polls for the signal
    }
    assertThat(alice.lines).contains("candidate " + mine + " (STUN)");
    assertThat(alice.connection.localCandidates()).contains(mine);
    assertThat(alice.signalled).anyMatch(l -> l.contains(mine));
  }

  @Test
  void aStunServerReachedOverIpv6GivesOurIpv6AddressAsACandidate() throws Exception {
    StunServer stun = StunServer.start(new InetSocketAddress("::1", 0), group);
    closeMe.add(stun);
    Peer alice = new Peer().open(false, true, null);
    alice.connection.signal(alice.signalled::add);
    alice.connection.startDirect(DISCO_KEY, false, List.of(stun.localAddress()));
    String mine = "[::1]:" + alice.connection.channel().localAddress().getPort();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (alice.signalled.stream().noneMatch(l -> l.contains(mine)) && System.nanoTime() < deadline) {
      Thread.sleep(20); // polls for the signal
    }
    assertThat(alice.lines).contains("candidate " + mine + " (STUN)");
    assertThat(stun.requestsAnswered()).isPositive();
  }

  @Test
  void withForceRelayThereAreNoCandidatesNoSignalAndNoUdpToThePeer() throws Exception {
    Peer[] p = pair(true);
    Peer alice = p[0];
    Peer bob = p[1];
    alice.signalTo(bob);
    bob.signalTo(alice);
    bob.connection.addRemoteCandidates(List.of("127.0.0.1:" + alice.connection.channel().localAddress().getPort()));
    Sink sink = new Sink();
    QuicChannel q = quic(alice, bob, sink);
    String sent = send(q, 1 << 20, null);
    assertThat(sink.done.get(60, TimeUnit.SECONDS)).isEqualTo(sent);
    assertThat(alice.connection.localCandidates()).isEmpty();
    assertThat(alice.signalled).isEmpty();
    assertThat(alice.lines).noneMatch(l -> l.startsWith("connected-direct"));
    assertThat(bob.connection.directEndpoint()).isNull();
  }

  /**
   * Sends {@code total} random bytes on a new stream and ends it; runs {@code atQuarter} a quarter
   * of the way. The SHA-256 of what was sent.
   */
  private static String send(QuicChannel q, long total, Runnable atQuarter) throws Exception {
    QuicStreamChannel stream = q.createStream(QuicStreamType.BIDIRECTIONAL, NOOP).get(10, TimeUnit.SECONDS);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    Random random = new Random(total);
    byte[] chunk = new byte[32 << 10];
    long sent = 0;
    io.netty.channel.ChannelFuture last = null;
    boolean ran = false;
    while (sent < total) {
      while (!stream.isWritable()) {
        Thread.sleep(1); // QUIC's flow control, as a sending application waits for it
      }
      random.nextBytes(chunk);
      sha.update(chunk);
      last = stream.writeAndFlush(Unpooled.copiedBuffer(chunk));
      sent += chunk.length;
      if (!ran && atQuarter != null && sent >= total / 4) {
        ran = true;
        atQuarter.run();
      }
    }
    last.addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    return HexFormat.of().formatHex(sha.digest());
  }
}
