package dev.derphole.transport.quic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import dev.derphole.transport.path.PeerPath;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Alice (claimant, QUIC client) and Bob (issuer, QUIC server) talk QUIC through a real DERP server
 * on loopback, each with its own UDP socket that QUIC never addresses directly.
 */
class QuicOverRelayTest {
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

  /** One side: a DERP client feeding relayed packets into its path in batches. */
  final class Side implements DerpClientListener {
    final NodePrivateKey key = NodePrivateKey.generate();
    final TlsIdentity tls = TlsIdentity.generate();
    final PeerPath path = new PeerPath();
    final List<ByteBuf> batch = new ArrayList<>();
    DerpClient derp;
    DatagramChannel udp;

    Side open() throws Exception {
      derp = DerpClient.connect(DerpEndpoint.of(URI.create("http://127.0.0.1:" + relay.localAddress().getPort())),
          key, this, group, DerpClient.Options.defaults());
      closeMe.add(derp);
      udp = QuicTransport.bind(group, new InetSocketAddress("127.0.0.1", 0), path);
      closeMe.add(() -> udp.close().syncUninterruptibly());
      return this;
    }

    void talkTo(Side peer) {
      NodePublicKey to = peer.key.publicKey();
      path.relay(buf -> derp.send(to, buf));
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
  }

  /** Bob's stream handler: hashes what arrives, and at EOF answers with the hex SHA-256 and a FIN. */
  static final class HashEcho extends ChannelInboundHandlerAdapter {
    private final MessageDigest sha;
    long bytes;

    HashEcho() throws Exception {
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
        String hex = HexFormat.of().formatHex(sha.digest());
        // Deferred: a FIN written inside this event can be lost (see java-deps.md).
        ctx.executor().execute(() -> ctx.writeAndFlush(Unpooled.copiedBuffer(hex, java.nio.charset.StandardCharsets.US_ASCII))
            .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT));
      }
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  /** Alice's side of the stream: collects Bob's answer until his FIN. */
  static final class Answer extends ChannelInboundHandlerAdapter {
    final StringBuilder text = new StringBuilder();
    final CompletableFuture<String> done = new CompletableFuture<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      text.append(b.toString(java.nio.charset.StandardCharsets.US_ASCII));
      b.release();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownReadComplete) {
        done.complete(text.toString());
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      done.completeExceptionally(new IllegalStateException("stream closed before the answer"));
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

  /** Sends {@code total} random bytes; {@code midway} runs once half is written. Returns the hex SHA-256 sent and Bob's answer. */
  private String[] transfer(Side alice, Side bob, long total, Runnable midway) throws Exception {
    bob.talkTo(alice);
    alice.talkTo(bob);
    QuicTransport.serve(bob.udp, bob.tls, alice.tls.publicKey(), noop(), new HashEcho());
    QuicChannel quic = QuicTransport.connect(alice.udp, alice.path, alice.tls, bob.tls.publicKey(), noop(), noop())
        .get(10, TimeUnit.SECONDS);
    Answer answer = new Answer();
    QuicStreamChannel stream = quic.createStream(QuicStreamType.BIDIRECTIONAL, answer).get(10, TimeUnit.SECONDS);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    Random random = new Random(42);
    byte[] chunk = new byte[64 << 10];
    long sent = 0;
    boolean switched = false;
    io.netty.channel.ChannelFuture last = null;
    while (sent < total) {
      while (!stream.isWritable()) {
        Thread.sleep(1); // the sending app waits for QUIC's flow control, as a real sender would
      }
      random.nextBytes(chunk);
      int n = (int) Math.min(chunk.length, total - sent);
      sha.update(chunk, 0, n);
      last = stream.writeAndFlush(Unpooled.copiedBuffer(chunk, 0, n));
      sent += n;
      if (!switched && sent >= total / 2 && midway != null) {
        midway.run();
        switched = true;
      }
    }
    last.addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    String got = answer.done.get(60, TimeUnit.SECONDS);
    quic.close().sync();
    return new String[] {HexFormat.of().formatHex(sha.digest()), got};
  }

  @Test
  void aStreamCrossesTheRelayIntactWithPinnedMutualTls() throws Exception {
    Side alice = new Side().open();
    Side bob = new Side().open();
    String[] r = transfer(alice, bob, 16L << 20, null);
    assertThat(r[1]).isEqualTo(r[0]);
    assertThat(relay.metrics().packetsForwarded()).isGreaterThan(1000);
  }

  @Test
  void theLiveStreamMovesFromRelayToDirectWithoutRestarting() throws Exception {
    Side alice = new Side().open();
    Side bob = new Side().open();
    long before = relay.metrics().packetsForwarded();
    String[] r = transfer(alice, bob, 16L << 20, () -> {
      alice.path.direct((InetSocketAddress) bob.udp.localAddress());
      bob.path.direct((InetSocketAddress) alice.udp.localAddress());
    });
    assertThat(r[1]).isEqualTo(r[0]);
    assertThat(relay.metrics().packetsForwarded()).isGreaterThan(before);
    assertThat(alice.path.stats()).doesNotContain("direct out=0");
  }

  @Test
  void aClientWithAnotherKeyThanThePinnedOneIsRefused() throws Exception {
    Side alice = new Side().open();
    Side bob = new Side().open();
    bob.talkTo(alice);
    alice.talkTo(bob);
    TlsIdentity someoneElse = TlsIdentity.generate();
    QuicTransport.serve(bob.udp, bob.tls, someoneElse.publicKey(), noop(), new HashEcho());
    var f = QuicTransport.connect(alice.udp, alice.path, alice.tls, bob.tls.publicKey(), noop(), noop());
    assertThat(f.await(20, TimeUnit.SECONDS)).isTrue();
    boolean usable = f.isSuccess() && awaitStreamWorks(f.getNow());
    assertThat(usable).as("a connection from an unpinned client must not carry data").isFalse();
  }

  @Test
  void aServerWithAnotherKeyThanTheTokenSaysIsRefused() throws Exception {
    Side alice = new Side().open();
    Side bob = new Side().open();
    bob.talkTo(alice);
    alice.talkTo(bob);
    QuicTransport.serve(bob.udp, bob.tls, alice.tls.publicKey(), noop(), new HashEcho());
    var f = QuicTransport.connect(alice.udp, alice.path, alice.tls, TlsIdentity.generate().publicKey(), noop(), noop());
    assertThat(f.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(f.isSuccess()).isFalse();
  }

  /** Opens a stream and waits for Bob's answer to an empty one; false if the connection dies. */
  private static boolean awaitStreamWorks(QuicChannel quic) {
    try {
      Answer answer = new Answer();
      QuicStreamChannel s = quic.createStream(QuicStreamType.BIDIRECTIONAL, answer).get(5, TimeUnit.SECONDS);
      s.shutdownOutput();
      answer.done.get(10, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      return false;
    }
  }
}
