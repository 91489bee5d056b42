package dev.derphole.derp.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.client.ReconnectingDerpClient;
import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.tls.DerpTls;
import dev.derphole.derp.tls.SelfSignedCertificate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A real server on 127.0.0.1:0 and real clients: alice, bob and cathy. */
class DerpServerTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static EventLoopGroup group;
  private DerpServer server;
  private final List<AutoCloseable> closeMe = new java.util.ArrayList<>();

  @BeforeAll
  static void startGroup() {
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  }

  @AfterAll
  static void stopGroup() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : closeMe) {
      c.close();
    }
    if (server != null) {
      server.close();
    }
  }

  /** Records what a client hears. */
  static final class Inbox implements DerpClientListener {
    final BlockingQueue<String> packets = new LinkedBlockingQueue<>();
    final BlockingQueue<String> gone = new LinkedBlockingQueue<>();
    final BlockingQueue<String> closed = new LinkedBlockingQueue<>();

    @Override
    public void onPacket(NodePublicKey source, ByteBuf packet) {
      packets.add(source.shortString() + ":" + packet.toString(StandardCharsets.UTF_8));
    }

    @Override
    public void onPeerGone(NodePublicKey peer, PeerGoneReason reason) {
      gone.add(peer.shortString() + ":" + reason);
    }

    @Override
    public void onClosed(String reason) {
      closed.add(reason);
    }

    String next(BlockingQueue<String> q) throws InterruptedException {
      String s = q.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(s).as("event within %s", WAIT).isNotNull();
      return s;
    }
  }

  private DerpServer start(DerpServerConfig.Builder b) throws IOException {
    server = DerpServer.start(b.build());
    return server;
  }

  private DerpClient connect(DerpEndpoint ep, NodePrivateKey key, Inbox inbox) throws IOException {
    DerpClient c = DerpClient.connect(ep, key, inbox, group, DerpClient.Options.defaults());
    closeMe.add(c);
    return c;
  }

  private DerpEndpoint plain() {
    return DerpEndpoint.of(URI.create("http://127.0.0.1:" + server.localAddress().getPort()));
  }

  @Test
  void aliceAndBobExchangePacketsOverPlainHttp() throws Exception {
    start(DerpServerConfig.builder());
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox aliceInbox = new Inbox();
    Inbox bobInbox = new Inbox();
    DerpClient a = connect(plain(), alice, aliceInbox);
    DerpClient b = connect(plain(), bob, bobInbox);
    assertThat(a.serverKey()).isEqualTo(server.publicKey());
    assertThat(a.serverInfo().version()).isEqualTo(2);

    a.send(bob.publicKey(), "hello bob".getBytes(StandardCharsets.UTF_8));
    assertThat(bobInbox.next(bobInbox.packets)).isEqualTo(alice.publicKey().shortString() + ":hello bob");
    b.send(alice.publicKey(), "hi alice".getBytes(StandardCharsets.UTF_8));
    assertThat(aliceInbox.next(aliceInbox.packets)).isEqualTo(bob.publicKey().shortString() + ":hi alice");
    assertThat(server.metrics().packetsForwarded()).isEqualTo(2);
  }

  @Test
  void aliceAndBobExchangePacketsOverTlsWithAPinnedSelfSignedCertificate() throws Exception {
    SelfSignedCertificate cert = SelfSignedCertificate.generate(List.of("derp.test", "127.0.0.1"));
    start(DerpServerConfig.builder().tls(DerpTls.server(cert.keyPair().getPrivate(), cert.certificate())));
    DerpEndpoint pinned = new DerpEndpoint("derp.test", server.localAddress().getPort(), true,
        List.of(new InetSocketAddress("127.0.0.1", server.localAddress().getPort())), cert.certName(), false);
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox bobInbox = new Inbox();
    DerpClient a = connect(pinned, alice, new Inbox());
    connect(pinned, bob, bobInbox);
    byte[] big = new byte[65536];
    new java.util.Random(1).nextBytes(big);
    a.send(bob.publicKey(), big);
    String got = bobInbox.next(bobInbox.packets);
    assertThat(got).hasSize(alice.publicKey().shortString().length() + 1 + new String(big, StandardCharsets.UTF_8).length());
  }

  @Test
  void tlsWithTheWrongPinIsRefused() throws Exception {
    SelfSignedCertificate cert = SelfSignedCertificate.generate(List.of("derp.test"));
    SelfSignedCertificate other = SelfSignedCertificate.generate(List.of("derp.test"));
    start(DerpServerConfig.builder().tls(DerpTls.server(cert.keyPair().getPrivate(), cert.certificate())));
    DerpEndpoint wrongPin = new DerpEndpoint("derp.test", server.localAddress().getPort(), true,
        List.of(new InetSocketAddress("127.0.0.1", server.localAddress().getPort())), other.certName(), false);
    assertThatThrownBy(() -> connect(wrongPin, NodePrivateKey.generate(), new Inbox()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("TLS handshake failed");
  }

  @Test
  void tlsWithoutAPinRejectsAnUntrustedCertificate() throws Exception {
    SelfSignedCertificate cert = SelfSignedCertificate.generate(List.of("derp.test"));
    start(DerpServerConfig.builder().tls(DerpTls.server(cert.keyPair().getPrivate(), cert.certificate())));
    DerpEndpoint unpinned = new DerpEndpoint("derp.test", server.localAddress().getPort(), true,
        List.of(new InetSocketAddress("127.0.0.1", server.localAddress().getPort())), "", false);
    assertThatThrownBy(() -> connect(unpinned, NodePrivateKey.generate(), new Inbox()))
        .isInstanceOf(IOException.class);
  }

  @Test
  void aClientThatStopsReadingDoesNotStallTheOthers() throws Exception {
    aClientThatStopsReadingDoesNotStallTheOthers(DerpServerConfig.builder().queuePackets(16));
    assertThat(server.metrics().senderPauses()).as("backpressure is off by default").isZero();
  }

  @Test
  void withBackpressureAClientThatStopsReadingHoldsUpItsSendersOnlyUntilThePauseLimit() throws Exception {
    aClientThatStopsReadingDoesNotStallTheOthers(
        DerpServerConfig.builder().queuePackets(16).senderPauseLimit(Duration.ofMillis(200)));
    // Alice was held back while bob's queue was full, but only until the pause limit.
    assertThat(server.metrics().senderPauseLimits()).isPositive();
  }

  private void aClientThatStopsReadingDoesNotStallTheOthers(DerpServerConfig.Builder config) throws Exception {
    start(config);
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    NodePrivateKey cathy = NodePrivateKey.generate();
    Inbox cathyInbox = new Inbox();
    DerpClient a = connect(plain(), alice, new Inbox());
    DerpClient b = connect(plain(), bob, new Inbox());
    connect(plain(), cathy, cathyInbox);
    // Bob's connection stops reading: its socket buffers fill and the server must drop for him.
    b.remoteAddress();
    stopReading(b);
    byte[] chunk = new byte[60_000];
    for (int i = 0; i < 400; i++) { // 24 MB: far beyond any socket buffer
      a.send(bob.publicKey(), chunk);
    }
    a.send(cathy.publicKey(), "still here".getBytes(StandardCharsets.UTF_8));
    assertThat(cathyInbox.next(cathyInbox.packets)).endsWith(":still here");
    await("packets for bob dropped").atMost(WAIT).until(() -> server.metrics().droppedQueueFull() > 0);
  }

  @Test
  void aSenderThatOutrunsItsReceiverIsHeldBackInsteadOfDropped() throws Exception {
    // No pause limit within the test: bob's queue can only drain by bob reading. A pause takes
    // effect after the read in progress, whose frames are still queued: 64 packets (4 MiB) leave
    // 32 packets of room above the pause mark for them (16 were not always enough).
    start(DerpServerConfig.builder().queuePackets(64).senderPauseLimit(Duration.ofMinutes(5)));
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    Counter bobCounts = new Counter();
    DerpClient a = connect(plain(), alice, new Inbox());
    DerpClient b = DerpClient.connect(plain(), bob, bobCounts, group, DerpClient.Options.defaults());
    closeMe.add(b);
    stopReading(b);
    // 128 MiB: more than the socket buffers between the server and bob (tens of MiB on loopback)
    // and 64 packets of queue could hold; without backpressure the server would drop the rest.
    int packets = 2048;
    byte[] filler = new byte[64 * 1024 - 4];
    for (int i = 0; i < packets; i++) {
      a.send(bob.publicKey(), io.netty.buffer.Unpooled.wrappedBuffer(
          io.netty.buffer.Unpooled.buffer(4).writeInt(i), io.netty.buffer.Unpooled.wrappedBuffer(filler)));
    }
    await("alice held back").atMost(WAIT).until(() -> server.metrics().senderPauses() > 0);
    channelOf(b).config().setAutoRead(true);
    await().atMost(WAIT).untilAsserted(() -> assertThat(bobCounts.received.get())
        .as(() -> "packets at bob; " + server.metrics().prometheus()).isEqualTo(packets));
    assertThat(bobCounts.outOfOrder.get()).isZero();
    assertThat(server.metrics().droppedQueueFull()).isZero();
    assertThat(server.metrics().senderPauseLimits()).isZero();
  }

  /** Counts packets numbered by their first four bytes, and any that come out of order. */
  static final class Counter implements DerpClientListener {
    final java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.atomic.AtomicInteger outOfOrder = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public void onPacket(NodePublicKey source, ByteBuf packet) {
      if (packet.getInt(packet.readerIndex()) != received.getAndIncrement()) {
        outOfOrder.incrementAndGet();
      }
    }
  }

  private static void stopReading(DerpClient c) throws Exception {
    channelOf(c).config().setAutoRead(false);
  }

  private static io.netty.channel.Channel channelOf(DerpClient c) throws Exception {
    java.lang.reflect.Field f = DerpClient.class.getDeclaredField("channel");
    f.setAccessible(true);
    return (io.netty.channel.Channel) f.get(c);
  }

  @Test
  void peerGoneReachesThoseWhoSentToAClientThatLeft() throws Exception {
    start(DerpServerConfig.builder());
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox aliceInbox = new Inbox();
    Inbox bobInbox = new Inbox();
    DerpClient a = connect(plain(), alice, aliceInbox);
    DerpClient b = connect(plain(), bob, bobInbox);
    a.send(bob.publicKey(), "x".getBytes(StandardCharsets.UTF_8));
    bobInbox.next(bobInbox.packets);
    b.close();
    assertThat(aliceInbox.next(aliceInbox.gone)).isEqualTo(bob.publicKey().shortString() + ":DISCONNECTED");
  }

  @Test
  void sendingToAnUnknownKeyAnswersNotHere() throws Exception {
    start(DerpServerConfig.builder());
    Inbox aliceInbox = new Inbox();
    DerpClient a = connect(plain(), NodePrivateKey.generate(), aliceInbox);
    NodePublicKey nobody = NodePrivateKey.generate().publicKey();
    a.send(nobody, new byte[] {1});
    assertThat(aliceInbox.next(aliceInbox.gone)).isEqualTo(nobody.shortString() + ":NOT_HERE");
    assertThat(server.metrics().droppedUnknownDestination()).isEqualTo(1);
  }

  @Test
  void aSecondConnectionWithTheSameKeyReplacesAndClosesTheFirst() throws Exception {
    start(DerpServerConfig.builder());
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox first = new Inbox();
    Inbox second = new Inbox();
    DerpClient old = connect(plain(), bob, first);
    connect(plain(), bob, second);
    assertThat(first.next(first.closed)).isNotEmpty();
    assertThat(old.isOpen()).isFalse();
    DerpClient a = connect(plain(), alice, new Inbox());
    a.send(bob.publicKey(), "to the new one".getBytes(StandardCharsets.UTF_8));
    assertThat(second.next(second.packets)).endsWith(":to the new one");
    assertThat(server.metrics().replacedConnections()).isEqualTo(1);
    assertThat(server.isConnected(bob.publicKey())).isTrue();
  }

  @Test
  void aSenderFollowsItsPeerToTheConnectionThatReplacedTheOldOne() throws Exception {
    // The server remembers where alice's last packet went; bob's new connection must win anyway.
    start(DerpServerConfig.builder());
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox first = new Inbox();
    Inbox second = new Inbox();
    DerpClient a = connect(plain(), alice, new Inbox());
    connect(plain(), bob, first);
    a.send(bob.publicKey(), "one".getBytes(StandardCharsets.UTF_8));
    assertThat(first.next(first.packets)).endsWith(":one");
    connect(plain(), bob, second);
    assertThat(first.next(first.closed)).isNotEmpty();
    a.send(bob.publicKey(), "two".getBytes(StandardCharsets.UTF_8));
    assertThat(second.next(second.packets)).endsWith(":two");
  }

  @Test
  void pingsAreAnswered() throws Exception {
    start(DerpServerConfig.builder());
    DerpClient a = connect(plain(), NodePrivateKey.generate(), new Inbox());
    Duration rtt = a.ping().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(rtt).isPositive();
    assertThat(server.metrics().pingsAnswered()).isEqualTo(1);
  }

  @Test
  void keepAlivesKeepAnIdleClientConnected() throws Exception {
    // The client gives up after 600 ms of silence; the server keeps it alive every 100 ms.
    start(DerpServerConfig.builder().keepAlive(Duration.ofMillis(100), Duration.ZERO));
    Inbox inbox = new Inbox();
    DerpClient a = DerpClient.connect(plain(), NodePrivateKey.generate(), inbox, group,
        DerpClient.Options.defaults().withReadTimeout(Duration.ofMillis(600)));
    closeMe.add(a);
    await("ten keep-alives").atMost(WAIT).until(() -> server.metrics().keepAlivesSent.sum() >= 10);
    assertThat(a.isOpen()).isTrue();
    assertThat(inbox.closed).isEmpty();
  }

  @Test
  void aSilentServerIsDetectedByTheReadTimeout() throws Exception {
    start(DerpServerConfig.builder()); // keep-alive every 60 s: silent for our short read timeout
    Inbox inbox = new Inbox();
    DerpClient a = DerpClient.connect(plain(), NodePrivateKey.generate(), inbox, group,
        DerpClient.Options.defaults().withReadTimeout(Duration.ofMillis(300)));
    closeMe.add(a);
    assertThat(inbox.next(inbox.closed)).contains("no data from the DERP server");
  }

  @Test
  void theRateLimitIsAdvertisedInServerInfoAndPacesTheSender() throws Exception {
    start(DerpServerConfig.builder().rateLimit(1_000_000, 70_000));
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox bobInbox = new Inbox();
    DerpClient a = connect(plain(), NodePrivateKey.generate(), new Inbox());
    connect(plain(), bob, bobInbox);
    assertThat(a.serverInfo().tokenBucketBytesPerSecond()).isEqualTo(1_000_000);
    assertThat(a.serverInfo().tokenBucketBytesBurst()).isEqualTo(70_000);
    for (int i = 0; i < 5; i++) {
      a.send(bob.publicKey(), new byte[30_000]);
    }
    for (int i = 0; i < 5; i++) {
      bobInbox.next(bobInbox.packets);
    }
    assertThat(server.metrics().rateLimitPauses()).isPositive();
  }

  @Test
  void datagramsAreDroppedInsteadOfQueuedWithoutBoundWhenTheRelayIsSlow() throws Exception {
    // 100 kB/s: the server stops reading, the TCP buffers fill, the client's write buffer grows.
    start(DerpServerConfig.builder().rateLimit(100_000, 70_000));
    NodePrivateKey bob = NodePrivateKey.generate();
    DerpClient a = connect(plain(), NodePrivateKey.generate(), new Inbox());
    connect(plain(), bob, new Inbox());
    int dropped = 0;
    // 128 MiB offered at once: more than the kernel's socket buffers on both ends (which take tens
    // of MiB on loopback) plus the 2 MiB high-water mark; send() would queue all of it.
    for (int i = 0; i < 2048; i++) {
      if (!a.sendDatagram(bob.publicKey(), io.netty.buffer.Unpooled.wrappedBuffer(new byte[64 << 10]))) {
        dropped++;
      }
    }
    assertThat(dropped).as("datagrams dropped once the write buffer is full").isPositive();
    // At 100 kB/s the buffer cannot drain below its low-water mark for many seconds: still full.
    assertThat(a.sendDatagram(bob.publicKey(), io.netty.buffer.Unpooled.wrappedBuffer(new byte[1]))).isFalse();
  }

  @Test
  void theReconnectingClientComesBackAfterTheServerRestarts() throws Exception {
    NodePrivateKey serverKey = NodePrivateKey.generate();
    start(DerpServerConfig.builder().privateKey(serverKey));
    int port = server.localAddress().getPort();
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox bobInbox = new Inbox();
    ReconnectingDerpClient a = new ReconnectingDerpClient(plain(), alice, new Inbox(), group, DerpClient.Options.defaults()).start();
    closeMe.add(a);
    a.awaitConnected(WAIT);
    server.close();
    server = null;
    server = DerpServer.start(DerpServerConfig.builder().privateKey(serverKey)
        .listen(new InetSocketAddress("127.0.0.1", port)).build());
    connect(plain(), bob, bobInbox);
    await("alice reconnected").atMost(WAIT).until(() -> server.isConnected(alice.publicKey()));
    a.awaitConnected(WAIT); // the dialer publishes the new connection just after the server registers it
    a.send(bob.publicKey(), io.netty.buffer.Unpooled.copiedBuffer("back", StandardCharsets.UTF_8));
    assertThat(bobInbox.next(bobInbox.packets)).endsWith(":back");
  }

  @Test
  void theClientRefusesAServerWithAnUnexpectedKey() throws Exception {
    start(DerpServerConfig.builder());
    NodePublicKey someoneElse = NodePrivateKey.generate().publicKey();
    assertThatThrownBy(() -> DerpClient.connect(plain(), NodePrivateKey.generate(), new Inbox(), group,
        DerpClient.Options.defaults().expectingServerKey(someoneElse)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("is not the expected");
  }

  @Test
  void metricsAreServedAsPrometheusText() throws Exception {
    start(DerpServerConfig.builder());
    connect(plain(), NodePrivateKey.generate(), new Inbox());
    var http = java.net.http.HttpClient.newHttpClient();
    var resp = http.send(java.net.http.HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.localAddress().getPort() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.body()).contains("derp_clients 1").contains("derp_packets_dropped_total{reason=\"queue_full\"}");
  }

  static String hex(ByteBuf b) {
    return ByteBufUtil.hexDump(b);
  }
}
