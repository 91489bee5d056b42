package dev.derphole.derp.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The per-client rate limit holds at the configured rate: alice writes SendPackets to bob as fast
 * as her socket takes them, through a real relay, and bob measures the rate at which they arrive
 * over several seconds' worth of bytes once the burst is spent. The rate is bytes over a
 * monotonic clock; only the bounds of the limit (±20 %) are asserted, never a duration.
 */
class DerpServerRateLimitTest {
  /** Generous upper bound for anything we wait on; never asserted as a duration. */
  private static final Duration PATIENCE = Duration.ofSeconds(60);
  private static final int PACKET = 16 << 10;
  /** Seconds' worth of bytes measured: enough that scheduling noise is small against it. */
  private static final int MEASURED_SECONDS = 3;

  private static EventLoopGroup clientGroup;

  @BeforeAll
  static void startClientGroup() {
    clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  @AfterAll
  static void stopClientGroup() {
    clientGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void oneMegabytePerSecondHolds() throws Exception {
    assertDeliveredRateIsTheLimit(1_000_000);
  }

  @Test
  void fourMegabytesPerSecondHold() throws Exception {
    assertDeliveredRateIsTheLimit(4_000_000);
  }

  private void assertDeliveredRateIsTheLimit(long bytesPerSecond) throws Exception {
    long burst = DerpServerConfig.MIN_RATE_BURST;
    try (DerpServer server = DerpServer.start(DerpServerConfig.builder()
        .listen(new InetSocketAddress("127.0.0.1", 0))
        .rateLimit(bytesPerSecond, burst).build())) {
      // Past the burst and whatever the relay's first reads took in before the bucket ran dry.
      long skip = burst + (1L << 20);
      long measured = MEASURED_SECONDS * bytesPerSecond;
      Meter bob = new Meter(skip, measured);
      NodePrivateKey bobKey = NodePrivateKey.generate();
      DerpEndpoint endpoint = DerpEndpoint.of(URI.create("http://127.0.0.1:" + server.localAddress().getPort()));
      try (DerpClient b = DerpClient.connect(endpoint, bobKey, bob, clientGroup, DerpClient.Options.defaults());
           RawDerpClient alice = new RawDerpClient(server, PATIENCE)) {
        alice.login(NodePrivateKey.generate());
        Thread sender = new Thread(() -> sendFlatOut(alice, bobKey.publicKey()), "alice-sender");
        sender.setDaemon(true);
        sender.start();
        assertThat(bob.done.await(PATIENCE.toSeconds(), TimeUnit.SECONDS))
            .as("bob received %d bytes", skip + measured).isTrue();
        double rate = measured / ((bob.end - bob.start) / 1e9);
        assertThat(rate).as("delivered bytes/s against a limit of %d", bytesPerSecond)
            .isBetween(0.8 * bytesPerSecond, 1.2 * bytesPerSecond);
        assertThat(server.metrics().rateLimitPauses()).isPositive();
      }
    }
  }

  /** Writes 16 KiB packets to {@code to} until the socket is closed; a blocking write is the backpressure. */
  private static void sendFlatOut(RawDerpClient alice, NodePublicKey to) {
    byte[] frame = RawDerpClient.bytes(new Frame.SendPacket(to, Unpooled.wrappedBuffer(new byte[PACKET])));
    try {
      while (true) {
        alice.out.write(frame);
      }
    } catch (IOException e) {
      // closed at the end of the test
    }
  }

  /** Counts the packet bytes bob receives and notes when the measured stretch starts and ends. */
  private static final class Meter implements DerpClientListener {
    final CountDownLatch done = new CountDownLatch(1);
    private final long skip;
    private final long measured;
    private long received;
    volatile long start;
    volatile long end;

    Meter(long skip, long measured) {
      this.skip = skip;
      this.measured = measured;
    }

    @Override
    public void onPacket(NodePublicKey source, ByteBuf packet) {
      long before = received;
      received += packet.readableBytes();
      if (before < skip && received >= skip) {
        start = System.nanoTime();
      } else if (before < skip + measured && received >= skip + measured) {
        end = System.nanoTime();
        done.countDown();
      }
    }
  }
}
