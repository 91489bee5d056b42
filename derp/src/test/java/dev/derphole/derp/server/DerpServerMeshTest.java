package dev.derphole.derp.server;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.client.ReconnectingDerpClient;
import dev.derphole.derp.client.RegionNodes;
import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.server.DerpServerTest.Inbox;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three real relays of one region on 127.0.0.1, meshed with one key, and real clients on
 * different relays: alice (relay 1), bob (relay 2), cathy (relay 3), and dave, who moves.
 */
class DerpServerMeshTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);
  private static final String MESH_KEY = "6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8";
  private static EventLoopGroup group;

  private final List<DerpServer> relays = new ArrayList<>();
  private final List<AutoCloseable> closeMe = new ArrayList<>();

  @BeforeAll
  static void startGroup() {
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  }

  @AfterAll
  static void stopGroup() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @BeforeEach
  void threeMeshedRelays() throws Exception {
    for (int i = 0; i < 3; i++) {
      relays.add(DerpServer.start(DerpServerConfig.builder()
          .listen(new InetSocketAddress("127.0.0.1", 0)).meshKey(MESH_KEY).build()));
    }
    for (DerpServer r : relays) {
      for (DerpServer other : relays) {
        if (other != r) {
          r.addMeshPeer(endpoint(other));
        }
      }
    }
    for (DerpServer r : relays) {
      await("every relay watches the other two", () -> r.metrics().meshPeersUp() == 2);
    }
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : closeMe) {
      c.close();
    }
    for (DerpServer r : relays) {
      r.close();
    }
  }

  @Test
  void clientsOnDifferentRelaysExchangePacketsBothWays() throws Exception {
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    NodePrivateKey cathy = NodePrivateKey.generate();
    Inbox aliceIn = new Inbox();
    Inbox bobIn = new Inbox();
    Inbox cathyIn = new Inbox();
    DerpClient a = connect(0, alice, aliceIn);
    DerpClient b = connect(1, bob, bobIn);
    DerpClient c = connect(2, cathy, cathyIn);
    awaitKnown(alice, bob, cathy);

    a.send(bob.publicKey(), "alice to bob".getBytes(UTF_8));
    assertThat(bobIn.next(bobIn.packets)).isEqualTo(alice.publicKey().shortString() + ":alice to bob");
    b.send(alice.publicKey(), "bob to alice".getBytes(UTF_8));
    assertThat(aliceIn.next(aliceIn.packets)).isEqualTo(bob.publicKey().shortString() + ":bob to alice");
    c.send(alice.publicKey(), "cathy to alice".getBytes(UTF_8));
    assertThat(aliceIn.next(aliceIn.packets)).isEqualTo(cathy.publicKey().shortString() + ":cathy to alice");
    a.send(cathy.publicKey(), "alice to cathy".getBytes(UTF_8));
    assertThat(cathyIn.next(cathyIn.packets)).isEqualTo(alice.publicKey().shortString() + ":alice to cathy");

    assertThat(relays.get(0).metrics().meshForwardedToPeers()).isEqualTo(2);
    assertThat(relays.get(0).metrics().meshForwardedFromPeers()).isEqualTo(2);
    assertThat(relays.get(0).metrics().prometheus())
        .contains("derp_mesh_peers_up 2\n")
        .contains("derp_mesh_packets_forwarded_total{direction=\"to_peer\"} 2\n");
  }

  /**
   * dave moves from relay 1 to relay 2: he is up on relay 2 before his relay 1 connection goes,
   * so relay 3 hears PeerPresent from relay 2 first and PeerGone from relay 1 after. The last
   * relay he was seen on wins, and what cathy sends still reaches him; cathy hears no PeerGone.
   */
  @Test
  void aClientThatMovesKeepsReceiving() throws Exception {
    NodePrivateKey dave = NodePrivateKey.generate();
    NodePrivateKey cathy = NodePrivateKey.generate();
    Inbox onRelay1 = new Inbox();
    Inbox cathyIn = new Inbox();
    DerpClient first = connect(0, dave, onRelay1);
    DerpClient c = connect(2, cathy, cathyIn);
    awaitKnown(dave, cathy);
    c.send(dave.publicKey(), "one".getBytes(UTF_8));
    assertThat(onRelay1.next(onRelay1.packets)).endsWith(":one");

    Inbox onRelay2 = new Inbox();
    connect(1, dave, onRelay2);
    await("relay 3 routes dave to relay 2",
        () -> relays.get(2).mesh.routeOf(dave.publicKey()) != null
            && relays.get(2).mesh.routeOf(dave.publicKey()).endpoint().port() == relays.get(1).localAddress().getPort());
    first.close();
    await("relay 1 no longer holds dave", () -> !relays.get(0).isConnected(dave.publicKey()));
    // Relay 1 tells relay 3 of its clients in order: once relay 3 knows erin, it heard dave leave relay 1.
    NodePrivateKey erin = NodePrivateKey.generate();
    connect(0, erin, new Inbox());
    await("relay 3 heard from relay 1 after dave left", () -> relays.get(2).mesh.elsewhere(erin.publicKey()));
    assertThat(relays.get(2).mesh.routeOf(dave.publicKey()).endpoint().port()).isEqualTo(relays.get(1).localAddress().getPort());

    c.send(dave.publicKey(), "two".getBytes(UTF_8));
    assertThat(onRelay2.next(onRelay2.packets)).endsWith(":two");
    // relay 1 sends what it gets for dave on to relay 2 as well
    DerpClient alice = connect(0, NodePrivateKey.generate(), new Inbox());
    alice.send(dave.publicKey(), "three".getBytes(UTF_8));
    assertThat(onRelay2.next(onRelay2.packets)).endsWith(":three");
    assertThat(cathyIn.gone).isEmpty();
  }

  /** relay 3 dies: alice, on relay 1, who talked with cathy on relay 3, hears PeerGone(cathy). */
  @Test
  void aRelayThatDiesTakesItsClientsWithItAndWatchersHearPeerGone() throws Exception {
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey cathy = NodePrivateKey.generate();
    Inbox aliceIn = new Inbox();
    Inbox cathyIn = new Inbox();
    DerpClient a = connect(0, alice, aliceIn);
    connect(2, cathy, cathyIn);
    awaitKnown(alice, cathy);
    a.send(cathy.publicKey(), "hi".getBytes(UTF_8));
    assertThat(cathyIn.next(cathyIn.packets)).endsWith(":hi");

    relays.get(2).close();
    await("the survivors lost their mesh peer", () -> relays.get(0).metrics().meshPeersUp() == 1
        && relays.get(1).metrics().meshPeersUp() == 1);
    assertThat(aliceIn.next(aliceIn.gone)).isEqualTo(cathy.publicKey().shortString() + ":" + PeerGoneReason.DISCONNECTED);
  }

  /**
   * alice dials the region the way Tailscale's clients do (first node that answers, in map order)
   * and sits on relay 1; bob sits on relay 3. Relay 1 dies: alice's client redials, skips it,
   * lands on relay 2, and what bob sends reaches her again.
   */
  @Test
  void aClientOfTheRegionMovesToTheNextNodeWhenItsNodeDies() throws Exception {
    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox aliceIn = new Inbox();
    ReconnectingDerpClient a = new ReconnectingDerpClient(
        RegionNodes.of(relays.stream().map(DerpServerMeshTest::endpoint).toList()), alice, aliceIn, group,
        DerpClient.Options.defaults()).start();
    closeMe.add(a);
    a.awaitConnected(PATIENCE);
    assertThat(relays.get(0).isConnected(alice.publicKey())).as("the first node in map order").isTrue();
    DerpClient b = connect(2, bob, new Inbox());
    awaitKnown(alice, bob);
    b.send(alice.publicKey(), "before".getBytes(UTF_8));
    assertThat(aliceIn.next(aliceIn.packets)).endsWith(":before");

    relays.get(0).close();
    await("alice is on relay 2", () -> relays.get(1).isConnected(alice.publicKey()));
    await("relay 3 routes alice to relay 2", () -> relays.get(2).mesh.routeOf(alice.publicKey()) != null
        && relays.get(2).mesh.routeOf(alice.publicKey()).endpoint().port() == relays.get(1).localAddress().getPort());
    b.send(alice.publicKey(), "after".getBytes(UTF_8));
    assertThat(aliceIn.next(aliceIn.packets)).endsWith(":after");
  }

  /**
   * A dead node (nothing listens on its port) fails the dial with the refusal, not with the
   * handshake's time-out 10 s later: only then does the region's next node get its turn at once.
   */
  @Test
  void aNodeThatRefusesTheConnectionFailsWithTheRefusal() throws Exception {
    DerpServer dead = relays.remove(2);
    DerpEndpoint deadEndpoint = endpoint(dead);
    dead.close();
    assertThatThrownBy(() -> DerpClient.connect(deadEndpoint, NodePrivateKey.generate(), new Inbox(), group,
        DerpClient.Options.defaults()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("refused");
  }

  /**
   * Every relay dials from 127.0.0.1 here, as a fleet behind one NAT would: a relay that allows
   * two connections per address still takes two clients beside its two mesh peers, and refuses
   * the third client.
   */
  @Test
  void meshPeersDoNotCountAgainstThePerAddressCap() throws Exception {
    DerpServer capped = DerpServer.start(DerpServerConfig.builder().listen(new InetSocketAddress("127.0.0.1", 0))
        .meshKey(MESH_KEY).maxConnectionsPerIp(2).build());
    relays.add(capped);
    relays.get(0).addMeshPeer(endpoint(capped));
    relays.get(1).addMeshPeer(endpoint(capped));
    await("both peers are up on the capped relay", () -> relays.get(0).metrics().meshPeersUp() == 3
        && relays.get(1).metrics().meshPeersUp() == 3);
    DerpEndpoint ep = endpoint(capped);
    closeMe.add(DerpClient.connect(ep, NodePrivateKey.generate(), new Inbox(), group, DerpClient.Options.defaults()));
    closeMe.add(DerpClient.connect(ep, NodePrivateKey.generate(), new Inbox(), group, DerpClient.Options.defaults()));
    assertThatThrownBy(() -> DerpClient.connect(ep, NodePrivateKey.generate(), new Inbox(), group, DerpClient.Options.defaults()))
        .isInstanceOf(IOException.class);
    assertThat(capped.metrics().refusedPerIp()).isEqualTo(1);
  }

  @Test
  void aWrongMeshKeyIsRefused() throws Exception {
    String wrong = MESH_KEY.substring(0, 63) + (MESH_KEY.endsWith("8") ? "9" : "8");
    assertThatThrownBy(() -> DerpClient.connect(endpoint(relays.get(0)), NodePrivateKey.generate(), new Inbox(), group,
        DerpClient.Options.defaults().withMeshKey(wrong)))
        .isInstanceOf(IOException.class);
    assertThat(relays.get(0).metrics().meshRefused()).isEqualTo(1);
  }

  @Test
  void aRelayWithoutAMeshKeyRefusesMeshPeers() throws Exception {
    DerpServer lone = DerpServer.start(DerpServerConfig.builder().listen(new InetSocketAddress("127.0.0.1", 0)).build());
    relays.add(lone);
    assertThatThrownBy(() -> DerpClient.connect(endpoint(lone), NodePrivateKey.generate(), new Inbox(), group,
        DerpClient.Options.defaults().withMeshKey(MESH_KEY)))
        .isInstanceOf(IOException.class);
    assertThat(lone.metrics().meshRefused()).isEqualTo(1);
  }

  /**
   * A mesh peer written here from Tailscale's protocol description, byte by byte: upgrade, ServerKey,
   * ClientInfo with the meshKey, ServerInfo, WatchConns (0x10, empty), then PeerPresent (0x09) for
   * bob, and a ForwardPacket (0x0a: src key, dst key, packet) that bob receives as from src.
   */
  @Test
  void aMeshPeerWrittenFromTheProtocolDescriptionWatchesAndForwards() throws Exception {
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox bobIn = new Inbox();
    connect(0, bob, bobIn);
    NodePrivateKey peerKey = NodePrivateKey.generate();
    NodePublicKey someoneElsewhere = NodePrivateKey.generate().publicKey();
    DerpServer relay = relays.get(0);
    try (Socket s = new Socket()) {
      s.connect(relay.localAddress(), (int) PATIENCE.toMillis());
      s.setSoTimeout((int) PATIENCE.toMillis());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      DataInputStream in = new DataInputStream(s.getInputStream());
      out.write("GET /derp HTTP/1.1\r\nHost: relay\r\nConnection: Upgrade\r\nUpgrade: DERP\r\n\r\n".getBytes(US_ASCII));
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(US_ASCII).endsWith("\r\n\r\n")) {
        head.write(in.readUnsignedByte());
      }
      assertThat(head.toString(US_ASCII)).startsWith("HTTP/1.1 101");
      assertThat(in.readUnsignedByte()).isEqualTo(0x01); // ServerKey: magic(8) + key(32)
      byte[] serverKeyFrame = new byte[in.readInt()];
      in.readFully(serverKeyFrame);
      NodePublicKey serverKey = NodePublicKey.fromRaw(Arrays.copyOfRange(serverKeyFrame, 8, 40));
      byte[] json = ("{\"meshKey\":\"" + MESH_KEY + "\",\"version\":2,\"CanAckPings\":false}").getBytes(UTF_8);
      byte[] box = peerKey.seal(serverKey, json); // nonce(24) + box
      out.writeByte(0x02);
      out.writeInt(32 + box.length);
      out.write(peerKey.publicKey().raw());
      out.write(box);
      out.writeByte(0x10); // WatchConns
      out.writeInt(0);
      out.flush();

      boolean sawBob = false;
      while (!sawBob) {
        int type = in.readUnsignedByte();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        if (type == 0x09) { // PeerPresent: key(32) + ip(16) + port(2) + flags(1)
          assertThat(payload.length).isEqualTo(51);
          if (Arrays.equals(Arrays.copyOf(payload, 32), bob.publicKey().raw())) {
            assertThat(payload[50] & 0x01).as("regular-client flag").isEqualTo(1);
            sawBob = true;
          }
        }
      }
      byte[] packet = "forwarded by a foreign relay".getBytes(UTF_8);
      out.writeByte(0x0a);
      out.writeInt(64 + packet.length);
      out.write(someoneElsewhere.raw());
      out.write(bob.publicKey().raw());
      out.write(packet);
      out.flush();
      assertThat(bobIn.next(bobIn.packets)).isEqualTo(someoneElsewhere.shortString() + ":forwarded by a foreign relay");
    }
  }

  /**
   * A peer relay that takes our mesh connection, says one of its clients is there, and then never
   * reads: what waits for it stays within its queue's bound (packets and bytes), the overflow is
   * dropped and counted as mesh_peer_full once the sender's pause runs out, and clients of this
   * relay that talk to each other are not held up. Without the bound nothing is dropped and the
   * queue grows with every packet.
   */
  @Test
  void aMeshPeerThatNeverReadsCostsAtMostItsQueue() throws Exception {
    DerpServer relay = DerpServer.start(DerpServerConfig.builder().listen(new InetSocketAddress("127.0.0.1", 0))
        .meshKey(MESH_KEY).queuePackets(16).queueBytes(65_536).meshPauseLimit(Duration.ofMillis(200)).build());
    relays.add(relay);
    NodePublicKey faraway = NodePrivateKey.generate().publicKey();
    FrozenPeer frozen = new FrozenPeer(faraway);
    closeMe.add(frozen);
    relay.addMeshPeer(frozen.endpoint());
    await("the frozen peer's client is routed there", () -> relay.mesh.routeOf(faraway) != null);
    MeshPeer peer = relay.mesh.routeOf(faraway);

    NodePrivateKey alice = NodePrivateKey.generate();
    NodePrivateKey bob = NodePrivateKey.generate();
    Inbox bobIn = new Inbox();
    DerpClient sender = DerpClient.connect(endpoint(relay), NodePrivateKey.generate(), new Inbox(), group,
        DerpClient.Options.defaults());
    closeMe.add(sender);
    DerpClient a = DerpClient.connect(endpoint(relay), alice, new Inbox(), group, DerpClient.Options.defaults());
    closeMe.add(a);
    closeMe.add(DerpClient.connect(endpoint(relay), bob, bobIn, group, DerpClient.Options.defaults()));

    byte[] packet = new byte[1000];
    int mostPackets = 0;
    long mostBytes = 0;
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (relay.metrics().droppedMeshPeerFull.sum() == 0) {
      assertThat(System.nanoTime()).as("packets for the frozen peer are dropped").isLessThan(deadline);
      sender.sendDatagram(faraway, io.netty.buffer.Unpooled.wrappedBuffer(packet));
      mostPackets = Math.max(mostPackets, peer.queuedPackets());
      mostBytes = Math.max(mostBytes, peer.queuedBytes());
    }
    assertThat(mostPackets).isLessThanOrEqualTo(peer.maxQueuedPackets()).isLessThanOrEqualTo(16 * Mesh.PEER_QUEUE_FACTOR);
    assertThat(mostBytes).isLessThanOrEqualTo(peer.maxQueuedBytes()).isLessThanOrEqualTo(65_536L * Mesh.PEER_QUEUE_FACTOR);
    assertThat(peer.queuedPackets()).isLessThanOrEqualTo(peer.maxQueuedPackets());
    assertThat(relay.metrics().prometheus()).containsPattern("derp_packets_dropped_total\\{reason=\"mesh_peer_full\"\\} [1-9]");

    a.send(bob.publicKey(), "still carried".getBytes(UTF_8));
    assertThat(bobIn.next(bobIn.packets)).isEqualTo(alice.publicKey().shortString() + ":still carried");
  }

  /**
   * A relay of the region written from the protocol description: it takes one mesh connection
   * (upgrade, ServerKey, ClientInfo, ServerInfo), tells it that {@code present} is its client with a
   * PeerPresent, and then never reads again; its receive buffer is small so it fills soon.
   */
  private static final class FrozenPeer implements AutoCloseable {
    private final java.net.ServerSocket server = new java.net.ServerSocket();
    private final NodePrivateKey key = NodePrivateKey.generate();
    private volatile Socket conn;

    FrozenPeer(NodePublicKey present) throws IOException {
      server.setReceiveBufferSize(4096);
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread t = new Thread(() -> {
        try {
          Socket s = server.accept();
          conn = s;
          DataInputStream in = new DataInputStream(s.getInputStream());
          DataOutputStream out = new DataOutputStream(s.getOutputStream());
          ByteArrayOutputStream head = new ByteArrayOutputStream();
          while (!head.toString(US_ASCII).endsWith("\r\n\r\n")) {
            head.write(in.readUnsignedByte());
          }
          out.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n".getBytes(US_ASCII));
          out.writeByte(0x01); // ServerKey: magic + key
          out.writeInt(8 + 32);
          out.write(dev.derphole.derp.frame.DerpProtocol.MAGIC);
          out.write(key.publicKey().raw());
          out.flush();
          int type = in.readUnsignedByte(); // ClientInfo: client key + sealed JSON
          byte[] info = new byte[in.readInt()];
          in.readFully(info);
          assertThat(type).isEqualTo(0x02);
          byte[] box = key.seal(NodePublicKey.fromRaw(Arrays.copyOf(info, 32)), "{\"version\":2}".getBytes(UTF_8));
          out.writeByte(0x03); // ServerInfo
          out.writeInt(box.length);
          out.write(box);
          out.writeByte(0x09); // PeerPresent: key(32) + ip(16) + port(2) + flags(1), a regular client
          out.writeInt(51);
          out.write(present.raw());
          out.write(new byte[18]);
          out.writeByte(0x01);
          out.flush();
        } catch (IOException e) {
          // closed by the test
        }
      }, "frozen-peer");
      t.setDaemon(true);
      t.start();
    }

    DerpEndpoint endpoint() {
      return DerpEndpoint.of(URI.create("http://127.0.0.1:" + server.getLocalPort()));
    }

    @Override
    public void close() throws IOException {
      server.close();
      if (conn != null) {
        conn.close();
      }
    }
  }

  @Test
  void meshFramesFromAClientWithoutTheKeyCloseItsConnection() throws Exception {
    try (RawDerpClient cathy = new RawDerpClient(relays.get(0), PATIENCE)) {
      cathy.login(NodePrivateKey.generate());
      cathy.write(new byte[] {0x10, 0, 0, 0, 0});
      cathy.assertClosedByServer();
    }
    assertThat(relays.get(0).metrics().protocolErrors()).isEqualTo(1);
  }

  private void awaitKnown(NodePrivateKey... keys) throws InterruptedException {
    for (DerpServer r : relays) {
      for (NodePrivateKey k : keys) {
        await("every relay knows where each client is",
            () -> r.isConnected(k.publicKey()) || r.mesh.elsewhere(k.publicKey()));
      }
    }
  }

  private DerpClient connect(int relay, NodePrivateKey key, Inbox inbox) throws IOException {
    DerpClient c = DerpClient.connect(endpoint(relays.get(relay)), key, inbox, group, DerpClient.Options.defaults());
    closeMe.add(c);
    return c;
  }

  private static DerpEndpoint endpoint(DerpServer r) {
    return DerpEndpoint.of(URI.create("http://127.0.0.1:" + r.localAddress().getPort()));
  }

  private static void await(String what, BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (!done.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
