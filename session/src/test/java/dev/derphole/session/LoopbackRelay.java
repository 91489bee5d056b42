package dev.derphole.session;

import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The setting of the in-process session tests: a real DERP server on loopback, a one-region map
 * that points at it, and the event loops both sides run on. Closing it stops both.
 *
 * <p>A test class that wants a fresh one per test holds {@code @RegisterExtension final
 * LoopbackRelay relay = LoopbackRelay.perTest();}.
 */
public final class LoopbackRelay implements AutoCloseable, BeforeEachCallback, AfterEachCallback {
  private EventLoopGroup group;
  private DerpServer server;
  private DerpMap map;

  private LoopbackRelay() {}

  private LoopbackRelay(EventLoopGroup group) throws Exception {
    startOn(group);
  }

  private void startOn(EventLoopGroup group) throws Exception {
    this.group = group;
    this.server = DerpServer.start(DerpServerConfig.builder().build());
    DerpNode node = new DerpNode("900a", 900, "127.0.0.1", "", "127.0.0.1", "", -1, false,
        server.localAddress().getPort(), false, false, true);
    this.map = DerpMap.singleRegion(900, "test", node);
  }

  /** A relay with two NIO event loops, started before each test and closed after it. */
  public static LoopbackRelay perTest() {
    return new LoopbackRelay();
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    startOn(new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory()));
  }

  @Override
  public void afterEach(ExtensionContext context) {
    close();
  }

  /** A relay with two NIO event loops for the sessions. */
  public static LoopbackRelay start() throws Exception {
    return new LoopbackRelay(new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory()));
  }

  /** A relay whose sessions run on {@code group}, which it shuts down on close. */
  public static LoopbackRelay start(EventLoopGroup group) throws Exception {
    return new LoopbackRelay(group);
  }

  /** The relay's counters (what it dropped, for one). */
  public dev.derphole.derp.server.ServerMetrics metrics() {
    return server.metrics();
  }

  public EventLoopGroup group() {
    return group;
  }

  /** Options for a session on this relay, loopback candidates allowed (everything is on one host). */
  public SessionOptions options(Reporter reporter, boolean forceRelay, Duration claimTimeout) {
    return new SessionOptions(group, reporter, () -> map, true, forceRelay, true, claimTimeout);
  }

  @Override
  public void close() {
    if (server == null) {
      return;
    }
    server.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
