package dev.derphole.derp.server;

import static dev.derphole.derp.server.RawDerpClient.bytes;
import static dev.derphole.derp.server.RawDerpClient.clientInfo;
import static dev.derphole.derp.server.RawDerpClient.concat;
import static dev.derphole.derp.server.RawDerpClient.upgradeRequest;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.frame.ClientInfoMessage;
import dev.derphole.derp.frame.DerpProtocol;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.frame.FrameType;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real {@link DerpServer} on 127.0.0.1 faces raw sockets that break the rules: garbage, stray
 * HTTP, forged or malformed handshakes, oversized frames, mesh-only frames, slow and silent peers,
 * a flood, and more connections than it allows. Each time the offender is cut off, the matching
 * counter moves exactly once, and afterwards alice and bob (real {@link DerpClient}s) still
 * exchange packets through the same server.
 *
 * <p>cathy is the raw-socket client that misbehaves.
 */
class DerpServerHostileInputTest extends HostileServerTest {
  /** A config knob, not a sleep: how long the server gives a connection to finish its handshake. */
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(3); // roomy: CI machines can be busy
  /** Generous upper bound for anything we wait on; never asserted as a duration. */
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  @BeforeEach
  void startServer() throws IOException {
    useServer(b -> b);
  }

  @Override
  DerpServerConfig.Builder serverDefaults(DerpServerConfig.Builder b) {
    return b.handshakeTimeout(HANDSHAKE_TIMEOUT);
  }

  // ------------------------------------------------------------ before the upgrade

  @Test
  void garbageWithoutEndOfHeadIsCutOffAfter8KiB() throws Exception {
    byte[] garbage = new byte[12 << 10];
    new Random(1).nextBytes(garbage);
    for (int i = 0; i < garbage.length; i++) {
      if (garbage[i] == '\n') {
        garbage[i] = 'x'; // never a line end, so never the end of a head
      }
    }
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      cathy.writeTolerantly(garbage);
      cathy.assertClosedByServer();
    }
    assertCountedOnceAndStillServing("handshake failures", metrics::handshakeFailures);
    assertThat(metrics.handshakeTimeouts()).isZero();
  }

  /**
   * Bytes that cannot begin an HTTP request are answered with 400 at once. The handshake deadline
   * is set past the socket's patience, so a server that waited for it would fail this test.
   */
  @Test
  void bytesThatCannotBeHttpGetA400AtOnce() throws Exception {
    useServer(b -> b.handshakeTimeout(PATIENCE.multipliedBy(3)));
    byte[] tlsHello = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03};
    byte[] notARequestLine = "hello there, relay\r\n".getBytes(US_ASCII);
    for (byte[] garbage : List.of(tlsHello, notARequestLine)) {
      try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
        cathy.write(garbage);
        assertThat(new String(cathy.readToEnd(), US_ASCII)).startsWith("HTTP/1.1 400 ");
      }
    }
    awaitValue("handshake failures", metrics::handshakeFailures, 2, PATIENCE);
    assertThat(metrics.handshakeTimeouts()).isZero();
  }

  @Test
  void otherPathsGetA404AndAClose() throws Exception {
    assertThat(http("GET", "/wp-login.php", "")).startsWith("HTTP/1.1 404 ");
    assertAnsweredAndStillServing(1);
  }

  @Test
  void derpWithoutUpgradeGetsA426() throws Exception {
    assertThat(http("GET", "/derp", ""))
        .startsWith("HTTP/1.1 426 ").endsWith("DERP requires connection upgrade\n");
    awaitValue("handshake failures", metrics::handshakeFailures, 1, PATIENCE);
    assertAnsweredAndStillServing(1);
  }

  @Test
  void probeAnswersGetAndRefusesPost() throws Exception {
    assertThat(http("GET", "/derp/probe", ""))
        .startsWith("HTTP/1.1 200 ").contains("\r\nAccess-Control-Allow-Origin: *\r\n");
    assertThat(http("POST", "/derp/probe", "Content-Length: 0\r\n")).startsWith("HTTP/1.1 405 ");
    assertAnsweredAndStillServing(2);
  }

  @Test
  void generate204EchoesTheCaptivePortalChallenge() throws Exception {
    assertThat(http("GET", "/generate_204", "X-Tailscale-Challenge: ts_derp1.test\r\n"))
        .startsWith("HTTP/1.1 204 ").contains("\r\nX-Tailscale-Response: response ts_derp1.test\r\n");
    assertAnsweredAndStillServing(1);
  }

  @Test
  void metricsAreServedAsText() throws Exception {
    assertThat(http("GET", "/metrics", "")).startsWith("HTTP/1.1 200 ").contains("\nderp_clients ");
    assertAnsweredAndStillServing(1);
  }

  @Test
  void slowlorisIsClosedByTheHandshakeDeadline() throws Exception {
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      cathy.write("GET /derp HTTP/1.1\r\nHo".getBytes(US_ASCII));
      cathy.assertClosedByServer();
    }
    assertCountedOnceAndStillServing("handshake timeouts", metrics::handshakeTimeouts);
  }

  @Test
  void silentConnectionIsClosedByTheHandshakeDeadline() throws Exception {
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      cathy.assertClosedByServer();
    }
    assertCountedOnceAndStillServing("handshake timeouts", metrics::handshakeTimeouts);
  }

  // ------------------------------------------------------- after the upgrade, before ClientInfo

  @Test
  void firstFrameThatIsNotClientInfoIsRefused() throws Exception {
    assertHandshakeRefused(bytes(new Frame.Ping(new byte[8])));
  }

  @Test
  void truncatedClientInfoIsRefused() throws Exception {
    // Key and nonce but no room for even the 16-byte box tag.
    ByteBuf frame = Unpooled.buffer();
    frame.writeByte(FrameType.CLIENT_INFO.code()).writeInt(32 + 24);
    NodePrivateKey.generate().publicKey().writeTo(frame);
    frame.writeZero(24);
    assertHandshakeRefused(ByteBufUtil.getBytes(frame));
  }

  @Test
  void clientInfoSealedToAnotherServerIsRefused() throws Exception {
    NodePrivateKey cathy = NodePrivateKey.generate();
    NodePublicKey someOtherServer = NodePrivateKey.generate().publicKey();
    assertHandshakeRefused(clientInfo(cathy, someOtherServer, ClientInfoMessage.standard().toJson()));
  }

  @Test
  void clientInfoHoldingInvalidJsonIsRefused() throws Exception {
    NodePrivateKey cathy = NodePrivateKey.generate();
    assertHandshakeRefused(clientInfo(cathy, server.publicKey(), "{\"version\":2,".getBytes(UTF_8)));
  }

  @Test
  void hugeFrameHeaderIsRefusedWithoutWaitingForItsPayload() throws Exception {
    ByteBuf header = Unpooled.buffer().writeByte(FrameType.CLIENT_INFO.code()).writeInt(100 << 20);
    // No payload follows, so only the size check (not the deadline) can be what closes it.
    assertHandshakeRefused(ByteBufUtil.getBytes(header));
  }

  /** cathy upgrades, sends {@code bytes} instead of a good ClientInfo, and is cut off. */
  private void assertHandshakeRefused(byte[] bytes) throws Exception {
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      assertThat(cathy.upgrade()).isEqualTo(server.publicKey());
      cathy.writeTolerantly(bytes);
      cathy.assertClosedByServer();
    }
    assertCountedOnceAndStillServing("handshake failures", metrics::handshakeFailures);
    assertThat(metrics.handshakeTimeouts()).isZero();
  }

  // ------------------------------------------------------------ after ClientInfo

  @Test
  void verifiedClientSendingAnOversizePacketIsCutOff() throws Exception {
    NodePrivateKey cathyKey = NodePrivateKey.generate();
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      cathy.login(cathyKey);
      int payload = 32 + DerpProtocol.MAX_PACKET_SIZE + 1;
      ByteBuf frame = Unpooled.buffer(5 + payload);
      frame.writeByte(FrameType.SEND_PACKET.code()).writeInt(payload);
      NodePrivateKey.generate().publicKey().writeTo(frame);
      frame.writeZero(payload - 32);
      cathy.writeTolerantly(ByteBufUtil.getBytes(frame));
      cathy.assertClosedByServer();
    }
    awaitValue("verified clients", metrics::clients, 0, PATIENCE);
    assertThat(server.isConnected(cathyKey.publicKey())).isFalse();
    assertCountedOnceAndStillServing("protocol errors", metrics::protocolErrors);
  }

  @Test
  void regularClientSendingWatchConnsIsCutOffAndNothingBehindItIsRelayed() throws Exception {
    NodePrivateKey aliceKey = NodePrivateKey.generate();
    NodePrivateKey bobKey = NodePrivateKey.generate();
    NodePrivateKey cathyKey = NodePrivateKey.generate();
    BlockingQueue<Received> bobInbox = new LinkedBlockingQueue<>();
    try (DerpClient alice = connect(aliceKey, new LinkedBlockingQueue<>());
         DerpClient bob = connect(bobKey, bobInbox)) {
      try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
        cathy.login(cathyKey);
        // WatchConns is for mesh peers only; the packet to bob rides in the same write behind it.
        byte[] watch = bytes(Frame.WatchConns.INSTANCE);
        byte[] sneak = bytes(new Frame.SendPacket(bobKey.publicKey(), Unpooled.copiedBuffer("from cathy", UTF_8)));
        cathy.writeTolerantly(concat(watch, sneak));
        cathy.assertClosedByServer();
      }
      awaitValue("protocol errors", metrics::protocolErrors, 1, PATIENCE);
      // Anything cathy got through would already sit in bob's queue, ahead of alice's packet.
      alice.send(bobKey.publicKey(), "from alice".getBytes(UTF_8));
      assertThat(bobInbox.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS))
          .isEqualTo(new Received(aliceKey.publicKey(), "from alice"));
      assertThat(bob.isOpen()).isTrue();
    }
    assertThat(metrics.protocolErrors()).as("counted once").isEqualTo(1);
  }

  // ----------------------------------------------------------------- fast start

  @Test
  void fastStartKeepsTheClientInfoPipelinedBehindTheRequest() throws Exception {
    NodePrivateKey cathyKey = NodePrivateKey.generate();
    NodePrivateKey aliceKey = NodePrivateKey.generate();
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      // A fast-start client already knows the server key (from the meta certificate) and sends
      // its request and ClientInfo in one write, reading no HTTP response.
      cathy.write(concat(
          upgradeRequest("Derp-Fast-Start: 1\r\n"),
          clientInfo(cathyKey, server.publicKey(), ClientInfoMessage.standard().toJson())));

      assertThat(cathy.in.read()).as("first byte: a ServerKey frame, not \"HTTP/1.1 101\"").isEqualTo(0x01);
      assertThat(cathy.readFrame(0x01)).isEqualTo(new Frame.ServerKey(server.publicKey()));
      Frame.ServerInfo info = (Frame.ServerInfo) cathy.readFrame();
      assertThat(new String(cathyKey.open(server.publicKey(), info.nonceAndBox()), UTF_8)).isEqualTo("{\"version\":2}");
      awaitValue("verified clients", metrics::clients, 1, PATIENCE);

      // And cathy is reachable like any other client.
      try (DerpClient alice = connect(aliceKey, new LinkedBlockingQueue<>())) {
        alice.send(cathyKey.publicKey(), "hi cathy".getBytes(UTF_8));
        Frame.RecvPacket got = (Frame.RecvPacket) cathy.readFrameSkipping(FrameType.KEEP_ALIVE);
        try {
          assertThat(got.source()).isEqualTo(aliceKey.publicKey());
          assertThat(got.packet().toString(UTF_8)).isEqualTo("hi cathy");
        } finally {
          got.release();
        }
      }
    }
    assertThat(metrics.handshakeFailures()).isZero();
  }

  // ----------------------------------------------------------------- load

  @Test
  void floodOfIdleConnectionsDoesNotStopAliceAndBob() throws Exception {
    // The flood stands for many addresses (the cap on one address has its own test), and alice
    // and bob come from the same loopback address as the flood.
    useServer(b -> b.handshakeTimeout(Duration.ofSeconds(3)).maxConnectionsPerIp(10_000));
    int flood = 1000;
    List<RawDerpClient> sockets = new ArrayList<>(flood);
    Level level = SERVER_LOG.getLevel();
    SERVER_LOG.setLevel(Level.WARNING); // a thousand "no DERP handshake" lines say nothing new
    try {
      for (int i = 0; i < flood; i++) {
        RawDerpClient cathy = new RawDerpClient(server, PATIENCE);
        sockets.add(cathy);
        if (i % 2 == 1) {
          cathy.write("GET /derp HTTP/1.1\r\nHost: derp".getBytes(US_ASCII));
        }
      }
      assertAliceAndBobStillTalk();
      awaitValue("handshake timeouts", metrics::handshakeTimeouts, flood, PATIENCE);
      awaitValue("open connections", metrics::connections, 0, PATIENCE);
      for (RawDerpClient cathy : sockets) {
        cathy.assertClosedByServer();
      }
    } finally {
      for (RawDerpClient cathy : sockets) {
        cathy.close();
      }
      SERVER_LOG.setLevel(level);
    }
    assertThat(metrics.handshakeFailures()).isZero();
  }

  @Test
  void connectionsOverTheLimitAreRefusedAtAccept() throws Exception {
    // A long deadline: the five held connections must still be open when the sixth arrives.
    useServer(b -> b.maxConnections(5).handshakeTimeout(PATIENCE.multipliedBy(3)));
    List<RawDerpClient> held = new ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        held.add(new RawDerpClient(server, PATIENCE));
      }
      awaitValue("open connections", metrics::connections, 5, PATIENCE);
      try (RawDerpClient sixth = new RawDerpClient(server, PATIENCE)) {
        sixth.assertClosedByServer();
      }
      awaitValue("refused connections", metrics::refusedOverLimit, 1, PATIENCE);
      assertThat(metrics.connections()).isEqualTo(5);
    } finally {
      for (RawDerpClient c : held) {
        c.close();
      }
    }
    awaitValue("open connections", metrics::connections, 0, PATIENCE);
    assertAliceAndBobStillTalk();
    assertThat(metrics.refusedOverLimit()).isEqualTo(1);
  }

  // ------------------------------------------------------------------ helpers

  /**
   * After cathy was cut off: {@code counter} moved by exactly one, alice and bob still relay
   * through the server, and (checked again after their exchange) nobody counted her twice.
   */
  private void assertCountedOnceAndStillServing(String what, LongSupplier counter) throws Exception {
    awaitValue(what, counter, 1, PATIENCE);
    assertAliceAndBobStillTalk();
    assertThat(counter.getAsLong()).as(what + ", counted once").isEqualTo(1);
  }

  /** The server counted {@code requests} plain HTTP answers and still relays for alice and bob. */
  private void assertAnsweredAndStillServing(long requests) throws Exception {
    awaitValue("HTTP requests", metrics.httpRequests::sum, requests, PATIENCE);
    assertAliceAndBobStillTalk();
  }

  /** The server is still useful: two fresh clients log in and swap a packet each way. */
  private void assertAliceAndBobStillTalk() throws Exception {
    NodePrivateKey aliceKey = NodePrivateKey.generate();
    NodePrivateKey bobKey = NodePrivateKey.generate();
    BlockingQueue<Received> aliceInbox = new LinkedBlockingQueue<>();
    BlockingQueue<Received> bobInbox = new LinkedBlockingQueue<>();
    try (DerpClient alice = connect(aliceKey, aliceInbox); DerpClient bob = connect(bobKey, bobInbox)) {
      // A client holding its ServerInfo is registered: packets to it are not dropped as unknown.
      assertThat(server.isConnected(aliceKey.publicKey())).as("alice registered once connected").isTrue();
      assertThat(server.isConnected(bobKey.publicKey())).as("bob registered once connected").isTrue();
      assertThat(alice.send(bobKey.publicKey(), "hello bob".getBytes(UTF_8))).isTrue();
      assertThat(bobInbox.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS))
          .isEqualTo(new Received(aliceKey.publicKey(), "hello bob"));
      assertThat(bob.send(aliceKey.publicKey(), "hello alice".getBytes(UTF_8))).isTrue();
      assertThat(aliceInbox.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS))
          .isEqualTo(new Received(bobKey.publicKey(), "hello alice"));
    }
  }

  private record Received(NodePublicKey from, String text) {}

  private DerpClient connect(NodePrivateKey key, BlockingQueue<Received> inbox) throws IOException {
    return connect(key, (source, packet) -> inbox.add(new Received(source, packet.toString(UTF_8))));
  }

  /** Sends one HTTP/1.1 request head on a fresh connection and returns everything the server says before it closes. */
  private String http(String method, String path, String extraHeaders) throws IOException {
    String request = method + " " + path + " HTTP/1.1\r\nHost: derp.test\r\n" + extraHeaders + "\r\n";
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      cathy.write(request.getBytes(US_ASCII));
      return new String(cathy.readToEnd(), US_ASCII);
    }
  }
}
