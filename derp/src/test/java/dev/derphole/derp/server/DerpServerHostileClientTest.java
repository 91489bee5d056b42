package dev.derphole.derp.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.frame.ClientInfoMessage;
import dev.derphole.derp.frame.DerpProtocol;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.frame.FrameType;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Verified clients that follow the frame format but not the spirit: cathy pings without reading,
 * stops reading, opens more connections than one address may hold, or logs in and falls silent.
 * Each costs the relay a stated, bounded amount, is counted in {@code /metrics}, and alice and bob
 * (real {@link DerpClient}s) still exchange packets during and after.
 */
class DerpServerHostileClientTest extends HostileServerTest {
  /** Generous upper bound for anything we wait on; never asserted as a duration. */
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  /** How long cathy floods the relay with pings. */
  private static final Duration FLOOD = Duration.ofSeconds(30);
  /**
   * What one connection may hold in its socket write buffer: the high-water mark plus the one
   * write that crosses it (at most a RecvPacket frame of the largest packet).
   */
  private static final long PENDING_BOUND =
      DerpServer.WRITE_HIGH_WATER + DerpProtocol.HEADER_LENGTH + DerpProtocol.MAX_SERVER_FRAME_LENGTH;

  // ------------------------------------------------------------------ ping flood

  @Test
  void aClientThatPingsFlatOutAndNeverReadsCostsTheRelayAtMostOneWriteBuffer() throws Exception {
    // No write timeout: cathy stays connected for the whole flood, so only dropping her pongs can
    // keep what waits for her bounded.
    useServer(b -> b.writeTimeout(Duration.ZERO));
    NodePrivateKey cathyKey = NodePrivateKey.generate();
    int exchanges = 0;
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE);
         Pair pair = new Pair()) {
      cathy.login(cathyKey);
      Flood flood = new Flood(cathy, pingsFrames(64 << 10));
      flood.start();
      long end = System.nanoTime() + FLOOD.toNanos();
      while (System.nanoTime() < end && flood.failure == null) {
        pair.exchange(); // alice and bob are served all through the flood
        exchanges++;
        assertThat(metrics.outboundPendingPeak()).as("bytes waiting for one connection").isLessThanOrEqualTo(PENDING_BOUND);
      }
      assertThat(flood.failure).as("cathy was flooding all along").isNull();
      assertThat(metrics.droppedPongs()).as("pongs dropped while cathy's socket was full").isPositive();
      assertThat(metrics.outboundPendingPeak()).isLessThanOrEqualTo(PENDING_BOUND);
      assertThat(server.isConnected(cathyKey.publicKey())).isTrue();
      assertThat(new String(httpGet("/metrics"), UTF_8))
          .containsPattern("derp_control_frames_dropped_total\\{frame=\"pong\"\\} [1-9]")
          .contains("derp_outbound_pending_bytes_peak ");
      cathy.close();
      flood.join(PATIENCE.toMillis());
    }
    assertThat(exchanges).isPositive();
    try (Pair after = new Pair()) {
      after.exchange();
    }
  }

  @Test
  void aClientWhoseSocketStaysFullIsClosedByTheWriteTimeout() throws Exception {
    useServer(b -> b.writeTimeout(Duration.ofSeconds(1)));
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      cathy.login(NodePrivateKey.generate());
      Flood flood = new Flood(cathy, pingsFrames(64 << 10));
      flood.start();
      flood.join(PATIENCE.toMillis()); // until the server hangs up on her
      assertThat(flood.failure).as("cathy's writes fail once the server closed her connection").isNotNull();
    }
    await("write timeouts").atMost(PATIENCE).until(metrics::writeTimeouts, v -> v >= 1);
    assertThat(metrics.writeTimeouts()).isEqualTo(1);
    assertThat(metrics.protocolErrors()).as("the writes that failed once she was closed are no protocol error").isZero();
    try (Pair pair = new Pair()) {
      pair.exchange();
    }
    assertThat(new String(httpGet("/metrics"), UTF_8)).contains("derp_write_timeouts_total 1\n");
  }

  // ------------------------------------------------------------------ connections per address

  @Test
  void connectionsFromOneAddressBeyondTheCapAreRefusedAtAccept() throws Exception {
    useServer(b -> b.maxConnectionsPerIp(64));
    List<RawDerpClient> held = new ArrayList<>();
    int refused = 0;
    Level level = SERVER_LOG.getLevel();
    SERVER_LOG.setLevel(Level.SEVERE); // 136 refusals say nothing new
    try {
      for (int i = 0; i < 200; i++) {
        RawDerpClient cathy = new RawDerpClient(server, PATIENCE);
        if (loggedIn(cathy)) {
          held.add(cathy);
        } else {
          refused++;
          cathy.close();
        }
      }
      assertThat(held).hasSize(64);
      assertThat(refused).isEqualTo(136);
      assertThat(metrics.refusedPerIp()).isEqualTo(136);
      assertThat(metrics.clients()).isEqualTo(64);
      // One leaves: the address may open one more, and no more than that.
      held.remove(0).close();
      await("connections").atMost(PATIENCE).until(metrics::connections, v -> v <= 63);
      RawDerpClient again = new RawDerpClient(server, PATIENCE);
      assertThat(loggedIn(again)).as("a place freed by a close is taken again").isTrue();
      held.add(again);
      try (RawDerpClient oneTooMany = new RawDerpClient(server, PATIENCE)) {
        assertThat(loggedIn(oneTooMany)).isFalse();
      }
    } finally {
      SERVER_LOG.setLevel(level);
      for (RawDerpClient c : held) {
        c.close();
      }
    }
    await("connections").atMost(PATIENCE).until(metrics::connections, v -> v <= 0);
    try (Pair pair = new Pair()) {
      pair.exchange();
    }
    assertThat(new String(httpGet("/metrics"), UTF_8)).contains("derp_refused_per_ip_total 137\n");
  }

  @Test
  void anotherAddressIsNotHeldBackByOneAtItsCap() throws Exception {
    Assumptions.assumeTrue(canBind("127.0.0.2"), "127.0.0.2 is not a local address here (it is on Linux)");
    useServer(b -> b.maxConnectionsPerIp(2));
    // One at a time: the server counts a connection on its child event loop, so three connections
    // opened together may be counted in any order.
    try (RawDerpClient one = new RawDerpClient(server, PATIENCE)) {
      assertThat(loggedIn(one)).isTrue();
      try (RawDerpClient two = new RawDerpClient(server, PATIENCE)) {
        assertThat(loggedIn(two)).isTrue();
        try (RawDerpClient three = new RawDerpClient(server, PATIENCE)) {
          assertThat(loggedIn(three)).isFalse();
        }
        try (Socket other = new Socket()) {
          other.bind(new InetSocketAddress("127.0.0.2", 0));
          other.connect(server.localAddress(), (int) PATIENCE.toMillis());
          other.getOutputStream().write("GET /derp/probe HTTP/1.1\r\nHost: derp.test\r\n\r\n".getBytes(UTF_8));
          other.setSoTimeout((int) PATIENCE.toMillis());
          assertThat(new String(other.getInputStream().readAllBytes(), UTF_8)).startsWith("HTTP/1.1 200 ");
        }
      }
    }
    assertThat(metrics.refusedPerIp()).isEqualTo(1);
  }

  @Test
  void anIpv6HostIsCountedByItsSlash64AndAnIpv4HostByItsAddress() throws Exception {
    InetAddress host = InetAddress.getByName("2001:db8:1:2::5");
    assertThat(DerpServer.countedAs(InetAddress.getByName("2001:db8:1:2:ffff:ffff:ffff:1"))).isEqualTo(DerpServer.countedAs(host));
    assertThat(DerpServer.countedAs(InetAddress.getByName("2001:db8:1:3::5"))).isNotEqualTo(DerpServer.countedAs(host));
    assertThat(DerpServer.countedAs(InetAddress.getByName("192.0.2.1"))).isEqualTo(InetAddress.getByName("192.0.2.1"));
    assertThat(DerpServer.countedAs(InetAddress.getByName("192.0.2.2"))).isNotEqualTo(InetAddress.getByName("192.0.2.1"));
  }

  // ------------------------------------------------------------------ idle clients

  @Test
  void aClientThatSaysNothingIsPingedAndThenClosed() throws Exception {
    useServer(b -> b.idleTimeout(Duration.ofSeconds(1)));
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      cathy.login(NodePrivateKey.generate());
      // She reads what the server sends but never answers.
      Frame f = cathy.readFrameSkipping(FrameType.KEEP_ALIVE);
      assertThat(f).isInstanceOf(Frame.Ping.class);
      cathy.assertClosedByServer();
    }
    await("idle timeouts").atMost(PATIENCE).until(metrics::idleTimeouts, v -> v >= 1);
    assertThat(metrics.idleTimeouts()).isEqualTo(1);
    assertThat(metrics.idlePings()).isEqualTo(1);
    assertThat(new String(httpGet("/metrics"), UTF_8)).contains("derp_idle_timeouts_total 1\n");
  }

  @Test
  void anHonestIdleClientAnswersTheIdlePingsAndStays() throws Exception {
    // Each ping answered is one more idle timeout survived: three each for alice and bob, who
    // send nothing of their own. Roomy, so that a busy machine still answers within the quarter
    // of the timeout that is sure to be left after a ping.
    useServer(b -> b.idleTimeout(Duration.ofSeconds(2)));
    try (Pair pair = new Pair()) {
      await("idle pings to alice and bob").atMost(PATIENCE).until(metrics::idlePings, v -> v >= 6);
      assertThat(pair.alice.isOpen()).isTrue();
      assertThat(pair.bob.isOpen()).isTrue();
      assertThat(metrics.idleTimeouts()).isZero();
      pair.exchange();
    }
  }

  @Test
  void aClientThatCannotAnswerPingsIsNeverClosedForSilence() throws Exception {
    useServer(b -> b.idleTimeout(Duration.ofMillis(400)).keepAlive(Duration.ofMillis(100), Duration.ZERO));
    NodePrivateKey cathyKey = NodePrivateKey.generate();
    try (RawDerpClient cathy = new RawDerpClient(server, PATIENCE)) {
      cathy.login(cathyKey, new ClientInfoMessage("", DerpProtocol.PROTOCOL_VERSION, false, false, ""));
      // Forty keep-alives, ten idle timeouts: she hears only keep-alives, and stays.
      for (int i = 0; i < 40; i++) {
        assertThat(cathy.readFrame()).isInstanceOf(Frame.KeepAlive.class);
      }
      assertThat(server.isConnected(cathyKey.publicKey())).isTrue();
    }
    assertThat(metrics.idlePings()).isZero();
    assertThat(metrics.idleTimeouts()).isZero();
  }

  // ------------------------------------------------------------------ helpers

  /** Upgrade and login; false if the server hung up before ServerInfo (refused at accept). */
  private static boolean loggedIn(RawDerpClient c) throws Exception {
    try {
      c.login(NodePrivateKey.generate());
      return true;
    } catch (SocketTimeoutException e) {
      throw e;
    } catch (IOException e) {
      return false; // EOF or reset: closed at accept
    }
  }

  /** {@code bytes} worth of back-to-back Ping frames, written in one go. */
  private static byte[] pingsFrames(int bytes) {
    byte[] one = RawDerpClient.bytes(new Frame.Ping(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
    byte[] all = new byte[bytes / one.length * one.length];
    for (int i = 0; i < all.length; i += one.length) {
      System.arraycopy(one, 0, all, i, one.length);
    }
    return all;
  }

  /** cathy's writer: pings as fast as the socket takes them, never reading, until a write fails. */
  private static final class Flood extends Thread {
    private final RawDerpClient cathy;
    private final byte[] pings;
    volatile IOException failure;

    Flood(RawDerpClient cathy, byte[] pings) {
      super("cathy-pings");
      setDaemon(true);
      this.cathy = cathy;
      this.pings = pings;
    }

    @Override
    public void run() {
      try {
        while (true) {
          cathy.out.write(pings);
        }
      } catch (IOException e) {
        failure = e;
      }
    }
  }

  /** alice and bob, real clients of the server, who swap a packet each way on demand. */
  private final class Pair implements AutoCloseable {
    final NodePrivateKey aliceKey = NodePrivateKey.generate();
    final NodePrivateKey bobKey = NodePrivateKey.generate();
    final BlockingQueue<String> aliceInbox = new LinkedBlockingQueue<>();
    final BlockingQueue<String> bobInbox = new LinkedBlockingQueue<>();
    final DerpClient alice;
    final DerpClient bob;
    private int n;

    Pair() throws IOException {
      alice = connect(aliceKey, aliceInbox);
      try {
        bob = connect(bobKey, bobInbox);
      } catch (IOException e) {
        alice.close();
        throw e;
      }
    }

    void exchange() throws InterruptedException {
      String hello = "hello " + n++;
      assertThat(alice.send(bobKey.publicKey(), hello.getBytes(UTF_8))).isTrue();
      assertThat(bobInbox.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("bob hears alice").isEqualTo(hello);
      assertThat(bob.send(aliceKey.publicKey(), hello.getBytes(UTF_8))).isTrue();
      assertThat(aliceInbox.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("alice hears bob").isEqualTo(hello);
    }

    private DerpClient connect(NodePrivateKey key, BlockingQueue<String> inbox) throws IOException {
      DerpClientListener listener = (NodePublicKey source, io.netty.buffer.ByteBuf packet) -> inbox.add(packet.toString(UTF_8));
      return DerpServerHostileClientTest.this.connect(key, listener);
    }

    @Override
    public void close() {
      alice.close();
      bob.close();
    }
  }

  private byte[] httpGet(String path) throws IOException {
    try (RawDerpClient c = new RawDerpClient(server, PATIENCE)) {
      c.write(("GET " + path + " HTTP/1.1\r\nHost: derp.test\r\n\r\n").getBytes(UTF_8));
      return c.readToEnd();
    }
  }

  private static boolean canBind(String address) {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
