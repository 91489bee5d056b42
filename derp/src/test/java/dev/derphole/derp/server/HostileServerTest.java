package dev.derphole.derp.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.key.NodePrivateKey;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * What the hostile-peer tests of the server share: a real {@link DerpServer} on 127.0.0.1, real
 * {@link DerpClient}s for alice and bob, and the check after each test that every connection is
 * gone before the server stops.
 */
abstract class HostileServerTest {
  /** Generous upper bound for the check after each test; never asserted as a duration. */
  static final Duration CLEANUP_PATIENCE = Duration.ofSeconds(30);
  /** Held so the level set on it sticks (java.util.logging keeps loggers weakly). */
  static final Logger SERVER_LOG = Logger.getLogger("dev.derphole.derp.server");

  static EventLoopGroup clientGroup;
  DerpServer server;
  ServerMetrics metrics;

  @BeforeAll
  static void startClientGroup() {
    clientGroup = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  }

  @AfterAll
  static void stopClientGroup() {
    clientGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @AfterEach
  void everyConnectionIsGoneAndTheServerStops() throws Exception {
    if (server == null) {
      return;
    }
    try {
      awaitValue("open connections", metrics::connections, 0, CLEANUP_PATIENCE);
      awaitValue("verified clients", metrics::clients, 0, CLEANUP_PATIENCE);
    } finally {
      server.close();
    }
  }

  /** The config every server of the class starts from (on 127.0.0.1, any port). */
  DerpServerConfig.Builder serverDefaults(DerpServerConfig.Builder b) {
    return b;
  }

  /** Starts the server of this test (closing the one before, if any) with {@code tweak} applied. */
  void useServer(UnaryOperator<DerpServerConfig.Builder> tweak) throws IOException {
    if (server != null) {
      server.close();
    }
    server = DerpServer.start(tweak.apply(serverDefaults(DerpServerConfig.builder()
        .listen(new InetSocketAddress("127.0.0.1", 0)))).build());
    metrics = server.metrics();
  }

  /** A real client of the server. */
  DerpClient connect(NodePrivateKey key, DerpClientListener listener) throws IOException {
    DerpEndpoint endpoint = DerpEndpoint.of(URI.create("http://127.0.0.1:" + server.localAddress().getPort()));
    return DerpClient.connect(endpoint, key, listener, clientGroup, DerpClient.Options.defaults());
  }

  /** Polls (bounded) until {@code value} reaches {@code want}, then checks it did not overshoot. */
  static void awaitValue(String what, LongSupplier value, long want, Duration patience) {
    await(what).atMost(patience).until(value::getAsLong, v -> want == 0 ? v <= 0 : v >= want);
    assertThat(value.getAsLong()).as(what).isEqualTo(want);
  }
}
