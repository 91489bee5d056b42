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
import io.netty.util.ReferenceCountUtil;
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

  /** Drops every datagram in both directions while {@code cut} is set. */
  @ChannelHandler.Sharable
  static final class Firewall extends io.netty.channel.ChannelDuplexHandler {
    volatile boolean cut;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (cut) {
        ReferenceCountUtil.release(msg);
      } else {
        ctx.fireChannelRead(msg);
      }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
      if (cut && msg instanceof DatagramPacket) {
        ReferenceCountUtil.release(msg);
        promise.trySuccess();
      } else {
        ctx.write(msg, promise);
      }
    }
  }

  final class Side implements DerpClientListener, DirectPath.Listener {
    final NodePrivateKey key = NodePrivateKey.generate();
    final TlsIdentity tls = TlsIdentity.generate();
    final PeerPath path = new PeerPath();
    final Firewall firewall = new Firewall();
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
    QuicTransport.serve(bob.udp, bob.tls, alice.tls.publicKey(), noop, sink);
    QuicChannel quic = QuicTransport.connect(alice.udp, alice.path, alice.tls, bob.tls.publicKey(), noop, noop)
        .get(10, TimeUnit.SECONDS);
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
              Optional.of(new InetSocketAddress("127.0.0.1", 1))).encode(new byte[32]); // another session's key
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
}
