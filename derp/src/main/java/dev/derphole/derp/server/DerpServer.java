package dev.derphole.derp.server;

import dev.derphole.derp.http.HttpHeadDecoder;
import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A DERP relay server, wire-compatible with Tailscale's {@code derper}: TLS or plain HTTP, the
 * HTTP/1.1 upgrade at {@code /derp}, NaCl-boxed ClientInfo/ServerInfo, packet forwarding between
 * clients by public key, keep-alives, PeerGone, an optional per-client rate limit, and counters at
 * {@code /metrics}.
 *
 * <pre>
 *   accept ── [TLS] ── http-head ── HttpFront ──(GET /derp, Upgrade: DERP)──▶ frames ── ClientConnection
 *                                        └──(anything else)──▶ small HTTP answer, close
 * </pre>
 *
 * Every connection must finish TLS, the upgrade and a valid ClientInfo within the handshake
 * timeout, or it is closed: a slow or silent peer costs one idle socket for at most that long.
 */
public final class DerpServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DerpServer.class.getName());
  private static final AttributeKey<ScheduledFuture<?>> DEADLINE = AttributeKey.valueOf("derp-handshake-deadline");

  final DerpServerConfig config;
  final ServerMetrics metrics = new ServerMetrics();
  final ClientRegistry registry = new ClientRegistry();
  private final NodePublicKey publicKey;
  private final EventLoopGroup bossGroup;
  private final EventLoopGroup workerGroup;
  private final Channel serverChannel;

  private DerpServer(DerpServerConfig config) throws IOException {
    this.config = config;
    this.publicKey = config.privateKey().publicKey();
    this.bossGroup = EventLoops.newGroup(1, "derp-accept");
    // One loop per core: a relay's loops are busy, and more loops than cores only add hand-overs
    // between threads that then take turns on the same core.
    this.workerGroup = EventLoops.newGroup(Runtime.getRuntime().availableProcessors(), "derp-io");
    ServerBootstrap b = new ServerBootstrap()
        .group(bossGroup, workerGroup)
        .channel(EventLoops.serverSocket(bossGroup))
        .option(ChannelOption.SO_BACKLOG, 1024)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.SO_KEEPALIVE, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            accept(ch);
          }
        });
    try {
      this.serverChannel = b.bind(config.listen).sync().channel();
    } catch (Exception e) {
      bossGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      workerGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw new IOException("cannot listen on " + dev.derphole.derp.net.IpLiteral.format(config.listen) + ": "
          + dev.derphole.derp.io.Failures.describe(e), e);
    } 
  }

  /** Binds and starts serving. */
  public static DerpServer start(DerpServerConfig config) throws IOException {
    return new DerpServer(config);
  }

  private void accept(SocketChannel ch) {
    metrics.accepts.increment();
    if (metrics.connections.incrementAndGet() > config.maxConnections) {
      metrics.connections.decrementAndGet();
      metrics.refusedOverLimit.increment();
      LOG.log(Level.WARNING, "refusing connection from {0}: {1} connections already open", ch.remoteAddress(),
          config.maxConnections);
      ch.close();
      return;
    }
    ch.closeFuture().addListener(f -> metrics.connections.decrementAndGet());
    ScheduledFuture<?> deadline = ch.eventLoop().schedule(() -> {
      metrics.handshakeTimeouts.increment();
      LOG.log(Level.INFO, "closing connection from {0}: no DERP handshake within {1} ms", ch.remoteAddress(),
          config.handshakeTimeout.toMillis());
      ch.close();
    }, config.handshakeTimeout.toNanos(), TimeUnit.NANOSECONDS);
    ch.attr(DEADLINE).set(deadline);
    ch.closeFuture().addListener(f -> deadline.cancel(false)); // a client that left needs no time-out
    if (config.sslContext != null) {
      ch.pipeline().addLast("tls", config.sslContext.newHandler(ch.alloc()));
    }
    ch.pipeline().addLast(HttpFront.HEAD_DECODER, new HttpHeadDecoder());
    ch.pipeline().addLast("http-front", new HttpFront(this));
  }

  /** The handshake finished (or the request was answered): lift the deadline. */
  void verified(Channel ch) {
    ScheduledFuture<?> deadline = ch.attr(DEADLINE).getAndSet(null);
    if (deadline != null) {
      deadline.cancel(false);
    }
  }

  public NodePublicKey publicKey() {
    return publicKey;
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  /** Whether a client with this key is connected right now. */
  public boolean isConnected(NodePublicKey key) {
    return registry.get(key) != null;
  }

  /** Stops accepting, closes every connection and releases the threads. */
  @Override
  public void close() {
    // Bounded: a stop must never hang, even if an event loop is wedged.
    serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** One line for a log: the innermost useful message of an error. */
  static String describe(Throwable t) {
    return dev.derphole.derp.io.Failures.describe(t);
  }
}
