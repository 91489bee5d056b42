package dev.derphole.transport.path;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import dev.derphole.transport.disco.DiscoPacket;
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
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two peers with relay and direct UDP on loopback; a "firewall" handler at the front of each
 * socket cuts the direct path on demand, the way a NAT rebinding or a dead Wi-Fi would.
 */
class DirectPathTest {
  private static final byte[] KEY = new byte[32];

  static {
    java.util.Arrays.fill(KEY, (byte) 0x5a);
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
    for (AutoCloseable c : closeMe) {
      c.close();
    }
    relay.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  final class Side implements DerpClientListener, DirectPath.Listener {
    final NodePrivateKey key = NodePrivateKey.generate();
    final TlsIdentity tls = TlsIdentity.generate();
    final PeerPath path = new PeerPath();
    final DatagramCut firewall = new DatagramCut();
    final List<ByteBuf> batch = new ArrayList<>();
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    final int role;
    DirectPath direct;
    DerpClient derp;
    DatagramChannel udp;

    Side(int role) {
      this.role = role;
    }

    Side open() throws Exception {
      var loop = group.next();
      derp = DerpClient.connect(DerpEndpoint.of(URI.create("http://127.0.0.1:" + relay.localAddress().getPort())),
          key, this, loop, DerpClient.Options.defaults());
      closeMe.add(derp);
      udp = QuicTransport.bind(loop, new InetSocketAddress("127.0.0.1", 0), path);
      closeMe.add(() -> udp.close().syncUninterruptibly());
      direct = new DirectPath(udp.eventLoop(), KEY, role, path, this);
      udp.pipeline().addFirst("firewall", firewall);
      udp.pipeline().addAfter("firewall", "direct", direct);
      return this;
    }

    void peer(Side other) {
      NodePublicKey to = other.key.publicKey();
      path.relay(buf -> derp.send(to, buf));
      direct.addRemotes(List.of((InetSocketAddress) other.udp.localAddress()));
    }

    @Override
    public void onPacket(NodePublicKey source, ByteBuf packet) {
      batch.add(packet.retain());
    }

    @Override
    public void onReadComplete() {
      if (!batch.isEmpty()) {
        path.injectFromRelay(new ArrayList<>(batch));
        batch.clear();
      }
    }

    @Override
    public void onDirect(InetSocketAddress endpoint, Duration rtt, String why) {
      events.add("direct");
    }

    @Override
    public void onRelay(String why) {
      relayReasons.add(why);
      events.add("relay");
    }

    final List<String> relayReasons = new java.util.concurrent.CopyOnWriteArrayList<>();

    String next() throws InterruptedException {
      String e = events.poll(30, TimeUnit.SECONDS);
      assertThat(e).as("a path event").isNotNull();
      return e;
    }
  }

  static final class Sink extends ChannelInboundHandlerAdapter {
    final MessageDigest sha;
    final CompletableFuture<String> done = new CompletableFuture<>();
    volatile long bytes;

    Sink() throws Exception {
      sha = MessageDigest.getInstance("SHA-256");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      bytes += b.readableBytes();
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

  @Test
  void aCutDirectPathFallsBackToTheRelayMidTransferAndComesBackWhenRestored() throws Exception {
    Side alice = cutAndRestoreMidTransfer();
    assertThat(alice.path.gsoPackets()).as("NIO has no UDP GSO: segments go one by one").isZero();
  }

  @Test
  void withEpollTheSegmentsOfALargePacketLeaveInOneGsoSendAndArriveWhole() throws Exception {
    assertThat(io.netty.channel.epoll.Epoll.isAvailable()).as("Linux epoll (this test needs Linux)").isTrue();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    group = dev.derphole.derp.io.EventLoops.newGroup(2, "direct-path-test");
    Side alice = cutAndRestoreMidTransfer();
    assertThat(alice.path.gsoPackets()).as("segments sent with UDP GSO").isPositive();
  }

  /** A 48 MiB stream from alice to bob, direct, then on the relay while cut, then direct again. */
  private Side cutAndRestoreMidTransfer() throws Exception {
    Side alice = new Side(1).open();
    Side bob = new Side(0).open();
    alice.peer(bob);
    bob.peer(alice);
    assertThat(alice.next()).isEqualTo("direct");
    assertThat(bob.next()).isEqualTo("direct");

    Sink sink = new Sink();
    ChannelHandler noop = new ChannelInboundHandlerAdapter() {
      @Override
      public boolean isSharable() {
        return true;
      }
    };
    ChannelHandler bobsConnection = new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        bob.path.quic((QuicChannel) ctx.channel()); // as a session does, on both sides
      }

      @Override
      public boolean isSharable() {
        return true;
      }
    };
    QuicTransport.serve(bob.udp, bob.tls, alice.tls.publicKey(), bobsConnection, sink);
    QuicChannel quic = QuicTransport.connect(alice.udp, alice.path, alice.tls, bob.tls.publicKey(), noop, noop)
        .get(10, TimeUnit.SECONDS);
    alice.path.quic(quic);
    QuicStreamChannel stream = quic.createStream(QuicStreamType.BIDIRECTIONAL, noop).get(10, TimeUnit.SECONDS);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    Random random = new Random(5);
    byte[] chunk = new byte[32 << 10];
    long total = 48L << 20;
    long sent = 0;
    io.netty.channel.ChannelFuture last = null;
    boolean cut = false;
    boolean restored = false;
    while (sent < total) {
      while (!stream.isWritable()) {
        Thread.sleep(1); // waits for QUIC's flow control, as a sending app does
      }
      random.nextBytes(chunk);
      sha.update(chunk);
      last = stream.writeAndFlush(Unpooled.copiedBuffer(chunk));
      sent += chunk.length;
      if (!cut && sent >= total / 4) {
        alice.firewall.cut = true;
        bob.firewall.cut = true;
        cut = true;
        assertThat(alice.next()).isEqualTo("relay"); // the transfer goes on meanwhile, on the relay
        assertThat(alice.relayReasons.get(0)).as("the address as a user reads it").matches("nothing from \\d+\\.\\d+\\.\\d+\\.\\d+:\\d+ for 5 s");
      }
      if (cut && !restored && sent >= total / 2) {
        alice.firewall.cut = false;
        bob.firewall.cut = false;
        restored = true;
        assertThat(alice.next()).isEqualTo("direct");
      }
    }
    last.addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    assertThat(sink.done.get(60, TimeUnit.SECONDS)).isEqualTo(HexFormat.of().formatHex(sha.digest()));
    assertThat(alice.path.relayedPackets()).as("the relay carried part of it").isPositive();
    assertThat(alice.path.overlapPackets())
        .as("in the seconds before the fallback, with the direct path silent, packets went through the relay too")
        .isPositive();
    assertThat(alice.path.splitPackets()).as("large packets went direct in segments").isPositive();
    assertThat(bob.path.joinedPackets()).as("and were put back together").isPositive();
    assertThat(alice.path.quicHeard()).as("QUIC packets the connection accepted kept the direct path alive").isPositive();
    assertThat(bob.path.quicHeard()).as("on the server's side too").isPositive();
    quic.close().sync();
    return alice;
  }

  @Test
  void aReflectedOrForgedProbeDoesNotPromoteAnything() throws Exception {
    Side alice = new Side(1).open();
    // A "peer" that only echoes alice's own pings back to her (reflection), and one with the wrong key.
    java.net.DatagramSocket mirror = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    closeMe.add(mirror);
    Thread echo = new Thread(() -> {
      byte[] buf = new byte[2048];
      try {
        while (true) {
          java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
          mirror.receive(p);
          mirror.send(new java.net.DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
          byte[] forged = new DiscoPacket(DiscoPacket.Kind.PONG, 0, java.util.Arrays.copyOfRange(p.getData(), 11, 23),
              wire(p.getData(), 23), Optional.of(new InetSocketAddress("127.0.0.1", 1))).encode(new byte[32]); // another session's key
          mirror.send(new java.net.DatagramPacket(forged, forged.length, p.getSocketAddress()));
        }
      } catch (java.io.IOException e) {
        // socket closed
      }
    });
    echo.setDaemon(true);
    echo.start();
    alice.direct.addRemotes(List.of((InetSocketAddress) mirror.getLocalSocketAddress()));
    assertThat(alice.events.poll(3, TimeUnit.SECONDS)).as("no promotion from reflections or forgeries").isNull();
    assertThat(alice.direct.current()).isNull();
  }

  /** A big-endian long at {@code at}: a disco packet's counter is at offset 23. */
  static long wire(byte[] b, int at) {
    return java.nio.ByteBuffer.wrap(b, at, 8).getLong();
  }

  // ---- A party on the path, with the clocks in the test's hands ----

  /** Alice's direct path on a real socket, its monotonic and wall clocks the test's. */
  final class Clocked implements DirectPath.Listener {
    final AtomicLong now = new AtomicLong(TimeUnit.SECONDS.toNanos(100));
    /** 2026-12-07T12:00:00Z, in microseconds. */
    final AtomicLong wall = new AtomicLong(1_796_644_800_000_000L);
    final PeerPath path = new PeerPath(now::get);
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    DirectPath direct;
    DatagramChannel udp;

    Clocked open() throws Exception {
      return open(new InetSocketAddress("127.0.0.1", 0));
    }

    /** Bound to {@code at}: the wildcard for both families. */
    Clocked open(InetSocketAddress at) throws Exception {
      udp = QuicTransport.bind(group.next(), at, path);
      closeMe.add(() -> udp.close().syncUninterruptibly());
      direct = new DirectPath(udp.eventLoop(), KEY, 1, path, this, wall::get);
      udp.pipeline().addBefore(QuicTransport.PATH, "direct-path", direct);
      return this;
    }

    InetSocketAddress address() {
      return (InetSocketAddress) udp.localAddress();
    }

    void elapse(Duration d) {
      now.addAndGet(d.toNanos());
      wall.addAndGet(d.toNanos() / 1000);
    }

    /** Runs on the socket's event loop, after whatever it is doing now. */
    <T> T onLoop(java.util.concurrent.Callable<T> c) throws Exception {
      return udp.eventLoop().submit(c).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void onDirect(InetSocketAddress endpoint, Duration rtt, String why) {
      events.add("direct " + endpoint);
    }

    @Override
    public void onRelay(String why) {
      events.add("relay");
    }
  }

  /** A raw UDP socket that holds the session's disco key: the peer (role 0), or an impostor. */
  final class Raw {
    final java.nio.channels.DatagramChannel socket;

    Raw() throws Exception {
      this("127.0.0.1");
    }

    /** On {@code host}, e.g. ::1. */
    Raw(String host) throws Exception {
      socket = java.nio.channels.DatagramChannel.open().bind(new InetSocketAddress(host, 0));
      closeMe.add(socket);
    }

    InetSocketAddress address() throws Exception {
      return (InetSocketAddress) socket.getLocalAddress();
    }

    void send(byte[] bytes, InetSocketAddress to) throws Exception {
      socket.send(java.nio.ByteBuffer.wrap(bytes), to);
    }

    /** The next disco packet of {@code kind} that arrives (bounded wait); others are skipped. */
    DiscoPacket next(DiscoPacket.Kind kind) throws Exception {
      socket.configureBlocking(false);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(2048);
      try (java.nio.channels.Selector sel = java.nio.channels.Selector.open()) {
        socket.register(sel, java.nio.channels.SelectionKey.OP_READ);
        while (System.nanoTime() < deadline) {
          sel.select(100);
          sel.selectedKeys().clear();
          buf.clear();
          while (socket.receive(buf) != null) {
            buf.flip();
            byte[] b = new byte[buf.remaining()];
            buf.get(b);
            buf.clear();
            Optional<DiscoPacket> p = DiscoPacket.decode(KEY, b);
            if (p.isPresent() && p.get().kind() == kind) {
              return p.get();
            }
          }
        }
      }
      throw new AssertionError("no " + kind + " within 10 s");
    }

    /** Whatever disco arrived and is waiting, without waiting. */
    List<DiscoPacket> waiting() throws Exception {
      socket.configureBlocking(false);
      List<DiscoPacket> out = new ArrayList<>();
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(2048);
      while (socket.receive(buf) != null) {
        buf.flip();
        byte[] b = new byte[buf.remaining()];
        buf.get(b);
        buf.clear();
        DiscoPacket.decode(KEY, b).ifPresent(out::add);
      }
      return out;
    }
  }

  private long counters;

  /** A ping as the peer makes one: fresh by alice's wall clock, each counter new. */
  byte[] ping(Clocked alice) {
    byte[] tx = new byte[DiscoPacket.TXID_LENGTH];
    new Random().nextBytes(tx);
    return new DiscoPacket(DiscoPacket.Kind.PING, 0, tx, alice.wall.get() + counters++, Optional.empty()).encode(KEY);
  }

  static byte[] pong(DiscoPacket ping, InetSocketAddress seenAs) {
    return new DiscoPacket(DiscoPacket.Kind.PONG, 0, ping.txid(), ping.counter(), Optional.of(seenAs)).encode(KEY);
  }

  /**
   * Waits until alice has dealt with everything sent to her so far: a fresh ping from {@code via}
   * gets its pong only after what was queued before it on her socket.
   */
  void sync(Clocked alice, Raw via) throws Exception {
    byte[] p = ping(alice);
    via.send(p, alice.address());
    byte[] tx = DiscoPacket.decode(KEY, p).orElseThrow().txid();
    DiscoPacket pong;
    do {
      pong = via.next(DiscoPacket.Kind.PONG);
    } while (!java.util.Arrays.equals(pong.txid(), tx));
  }

  /** Alice probes bob, bob answers: alice is direct to bob. */
  Clocked directTo(Raw bob) throws Exception {
    Clocked alice = new Clocked().open();
    alice.direct.addRemotes(List.of(bob.address()));
    DiscoPacket probe = bob.next(DiscoPacket.Kind.PING);
    bob.send(pong(probe, alice.address()), alice.address());
    assertThat(alice.events.poll(10, TimeUnit.SECONDS)).isEqualTo("direct " + bob.address());
    return alice;
  }

  @Test
  void aReplayedPingGetsNoPongAndNoSlotAndDoesNotEvictTheLivePath() throws Exception {
    Raw bob = new Raw();
    Clocked alice = directTo(bob);
    byte[] captured = ping(alice);
    bob.send(captured, alice.address());
    assertThat(bob.next(DiscoPacket.Kind.PONG).txid()).isEqualTo(DiscoPacket.decode(KEY, captured).orElseThrow().txid());

    // Replayed from bob's own address, and from 60 others (more than the 48 slots).
    bob.send(captured, alice.address());
    List<Raw> replayers = new ArrayList<>();
    for (int i = 0; i < DirectPath.MAX_REMOTES + 12; i++) {
      Raw r = new Raw();
      r.send(captured, alice.address());
      replayers.add(r);
    }
    sync(alice, bob); // bob's next pong answers a fresh ping: none came for the replay before it
    for (Raw r : replayers) {
      assertThat(r.waiting()).as("a pong to a replay").isEmpty();
    }
    assertThat(alice.onLoop(alice.direct::remoteCount)).as("remote slots").isEqualTo(1);
    assertThat(alice.onLoop(alice.direct::refusedPings)).isEqualTo(DirectPath.MAX_REMOTES + 13);
    assertThat(alice.direct.current()).isEqualTo(bob.address());

    // A ping made (with the key) more than the allowed skew ago: refused too, wherever it comes from.
    Raw late = new Raw();
    byte[] old = new DiscoPacket(DiscoPacket.Kind.PING, 0, new byte[DiscoPacket.TXID_LENGTH],
        alice.wall.get() - dev.derphole.transport.disco.ReplayWindow.MAX_SKEW.toNanos() / 1000 - 1, Optional.empty())
        .encode(KEY);
    late.send(old, alice.address());
    sync(alice, bob);
    assertThat(late.waiting()).isEmpty();
    assertThat(alice.onLoop(alice.direct::remoteCount)).isEqualTo(1);
  }

  @Test
  void addressesLearntFromPingsTakeAFewSlotsAndTheStalestGoesFirst() throws Exception {
    Raw bob = new Raw();
    Clocked alice = directTo(bob);
    // Fresh pings (the peer's, from addresses alice did not know) from more addresses than learnt slots.
    for (int i = 0; i < DirectPath.MAX_LEARNT + 8; i++) {
      Raw r = new Raw();
      sync(alice, r);
      alice.elapse(Duration.ofMillis(10));
    }
    assertThat(alice.onLoop(alice.direct::remoteCount)).isEqualTo(1 + DirectPath.MAX_LEARNT);
    assertThat(alice.direct.current()).as("the path in use is never evicted").isEqualTo(bob.address());
    // Unheard for the learnt lifetime: forgotten, while bob (a candidate, and in use) stays.
    alice.elapse(DirectPath.LEARNT_TTL.plusSeconds(1));
    bob.send(ping(alice), alice.address()); // bob stays alive meanwhile
    sync(alice, bob);
    alice.onLoop(() -> {
      alice.direct.tick();
      return null;
    });
    assertThat(alice.onLoop(alice.direct::remoteCount)).isEqualTo(1);
    assertThat(alice.direct.current()).isEqualTo(bob.address());
  }

  @Test
  void aDeadPathIsDeclaredDeadOnTimeWhateverElseComesFromItsAddress() throws Exception {
    Raw bob = new Raw();
    Raw carol = new Raw(); // only for sync: alice answers her pings
    Clocked alice = directTo(bob);
    byte[] bobsOldPing = ping(alice);
    bob.send(bobsOldPing, alice.address());
    sync(alice, bob);
    // Bob is gone; a party on the path sends from his address: QUIC-looking junk, his old ping, a stray pong.
    for (int second = 1; second <= DirectPath.STALE.toSeconds() + 1; second++) {
      alice.elapse(Duration.ofSeconds(1));
      bob.send(new byte[] {0x40, 1, 2, 3, 4, 5, 6, 7}, alice.address());
      bob.send(bobsOldPing, alice.address());
      byte[] tx = new byte[DiscoPacket.TXID_LENGTH];
      bob.send(new DiscoPacket(DiscoPacket.Kind.PONG, 0, tx, 0, Optional.of(alice.address())).encode(KEY), alice.address());
      sync(alice, carol);
      alice.onLoop(() -> {
        alice.direct.tick();
        return null;
      });
      if (second <= DirectPath.STALE.toSeconds()) {
        assertThat(alice.direct.current()).as("%d s after bob's last word", second).isEqualTo(bob.address());
        assertThat(alice.events).as("%d s after bob's last word", second).isEmpty();
      } else {
        assertThat(alice.direct.current()).as("%d s after bob's last word", second).isNull();
        assertThat(alice.events.poll()).isEqualTo("relay");
      }
    }
  }

  @Test
  void aPongMustSayAPlausibleAddressForUsAndItIsRecorded() throws Exception {
    Raw bob = new Raw();
    Raw carol = new Raw();
    Clocked alice = new Clocked().open();
    alice.direct.addRemotes(List.of(bob.address()));
    DiscoPacket probe = bob.next(DiscoPacket.Kind.PING);
    // No address, a multicast one, and the right one under another counter: none answers the probe.
    bob.send(pong(probe, new InetSocketAddress("0.0.0.0", 0)), alice.address());
    bob.send(pong(probe, new InetSocketAddress("224.0.0.1", 5000)), alice.address());
    bob.send(new DiscoPacket(DiscoPacket.Kind.PONG, 0, probe.txid(), probe.counter() + 1,
        Optional.of(alice.address())).encode(KEY), alice.address());
    sync(alice, carol);
    assertThat(alice.direct.current()).isNull();
    assertThat(alice.events).isEmpty();
    // Seen through a NAT: another address than alice's socket, plausible: promotes, and is recorded.
    InetSocketAddress mapped = new InetSocketAddress("198.51.100.7", 4242);
    bob.send(pong(probe, mapped), alice.address());
    assertThat(alice.events.poll(10, TimeUnit.SECONDS)).isEqualTo("direct " + bob.address());
    assertThat(alice.direct.seenAs()).isEqualTo(mapped);
  }

  // ---- Both families: which answering address is used, and moving off a quiet one ----

  /** Where a peer on this machine sees alice: alice's port on loopback of {@code via}'s family. */
  static InetSocketAddress loopbackOf(Clocked alice, Raw via) throws Exception {
    return new InetSocketAddress(via.address().getAddress(), alice.address().getPort());
  }

  /** An address a pong may say alice is at (any plausible one; alice's own is the wildcard). */
  static final InetSocketAddress SEEN = new InetSocketAddress("198.51.100.10", 4000);

  /** The next ping {@code to} gets that alice sent at or after her wall clock said {@code wallMicros}. */
  static DiscoPacket pingSince(Raw to, long wallMicros) throws Exception {
    DiscoPacket p;
    do {
      p = to.next(DiscoPacket.Kind.PING);
    } while (p.counter() < wallMicros);
    return p;
  }

  /** Alice (both families) promoted to bob6 over IPv6 with a 0 ms round trip; bob4 (IPv4) probed too, unanswered. */
  Clocked directOverIpv6(Raw bob4, Raw bob6) throws Exception {
    Clocked alice = new Clocked().open(new InetSocketAddress(0));
    alice.direct.addRemotes(List.of(bob6.address(), bob4.address()));
    DiscoPacket p6 = bob6.next(DiscoPacket.Kind.PING);
    bob6.send(pong(p6, SEEN), loopbackOf(alice, bob6));
    assertThat(alice.events.poll(10, TimeUnit.SECONDS)).isEqualTo("direct " + bob6.address());
    return alice;
  }

  @Test
  void theFasterAddressWinsWhateverItsFamilyAndIpv6WinsWhenAboutAsFast() throws Exception {
    Raw bob4 = new Raw("127.0.0.1");
    Raw bob6 = new Raw("::1");
    Clocked alice = new Clocked().open(new InetSocketAddress(0));
    alice.direct.addRemotes(List.of(bob4.address(), bob6.address()));
    DiscoPacket p4 = bob4.next(DiscoPacket.Kind.PING);
    DiscoPacket p6 = bob6.next(DiscoPacket.Kind.PING);
    // IPv4 answers first (10 ms) and is taken; IPv6 answers 2 ms later (12 ms): about as fast, so IPv6.
    alice.elapse(Duration.ofMillis(10));
    bob4.send(pong(p4, SEEN), loopbackOf(alice, bob4));
    assertThat(alice.events.poll(10, TimeUnit.SECONDS)).isEqualTo("direct " + bob4.address());
    alice.elapse(Duration.ofMillis(2));
    bob6.send(pong(p6, SEEN), loopbackOf(alice, bob6));
    assertThat(alice.events.poll(10, TimeUnit.SECONDS)).as("IPv6 within the margin takes over")
        .isEqualTo("direct " + bob6.address());

    // Bob keeps the IPv6 path alive while alice's next round of probes comes; IPv4 then answers in
    // 1 ms, well under 0.7 × 12 ms: the faster path wins, whatever its family.
    long since = alice.wall.get() + DirectPath.REPROBE_WHILE_DIRECT.toNanos() / 1000;
    DiscoPacket again = null;
    for (int step = 0; again == null; step++) {
      assertThat(step).as("a reprobe of IPv4 within the reprobe interval").isLessThan(20);
      alice.elapse(Duration.ofMillis(500));
      sync(alice, bob6); // a fresh ping from bob6: the path in use stays alive
      alice.onLoop(() -> {
        alice.direct.tick();
        return null;
      });
      for (DiscoPacket p : bob4.waiting()) {
        if (p.kind() == DiscoPacket.Kind.PING && p.counter() >= since) {
          again = p;
        }
      }
    }
    alice.elapse(Duration.ofMillis(1));
    bob4.send(pong(again, SEEN), loopbackOf(alice, bob4));
    assertThat(alice.events.poll(10, TimeUnit.SECONDS)).as("IPv4, faster by more than the margin")
        .isEqualTo("direct " + bob4.address());
  }

  @Test
  void aDirectPathThatGoesQuietGivesWayToAnotherAddressThatAnswersWithoutTheRelay() throws Exception {
    Raw bob4 = new Raw("127.0.0.1");
    Raw bob6 = new Raw("::1");
    Clocked alice = directOverIpv6(bob4, bob6);
    // The IPv6 path dies: nothing more from bob6. Quiet after a second: alice asks bob6 once...
    alice.elapse(PeerPath.SUSPECT.plusMillis(100));
    pingSince(bob6, alice.wall.get());
    // ...gets no answer, and probes the other addresses; IPv4 answers and takes over at once.
    alice.elapse(Failover.ANSWER_WAIT_MIN.plusMillis(10));
    DiscoPacket probe = pingSince(bob4, alice.wall.get());
    alice.elapse(Duration.ofMillis(1));
    bob4.send(pong(probe, SEEN), loopbackOf(alice, bob4));
    assertThat(alice.events.poll(10, TimeUnit.SECONDS)).as("IPv4 direct, no relay in between")
        .isEqualTo("direct " + bob4.address());
    assertThat(alice.direct.current()).isEqualTo(bob4.address());
  }

  @Test
  void aQuietPathThatAnswersTheQuestionStays() throws Exception {
    Raw bob4 = new Raw("127.0.0.1");
    Raw bob6 = new Raw("::1");
    Clocked alice = directOverIpv6(bob4, bob6);
    alice.elapse(PeerPath.SUSPECT.plusMillis(100)); // an idle path: quiet between keepalives
    DiscoPacket question = pingSince(bob6, alice.wall.get());
    bob6.send(pong(question, SEEN), loopbackOf(alice, bob6));
    sync(alice, bob6);
    // Later, IPv4 answers a probe alice sent before (slower than IPv6's 0 ms): nothing changes.
    alice.elapse(Failover.ANSWER_WAIT_MIN.plusMillis(10));
    List<DiscoPacket> toBob4 = bob4.waiting();
    DiscoPacket last = toBob4.stream().filter(p -> p.kind() == DiscoPacket.Kind.PING).reduce((a, b) -> b).orElseThrow();
    bob4.send(pong(last, SEEN), loopbackOf(alice, bob4));
    sync(alice, bob4);
    assertThat(alice.events).as("no switch away from a path that answered").isEmpty();
    assertThat(alice.direct.current()).isEqualTo(bob6.address());
  }
}
