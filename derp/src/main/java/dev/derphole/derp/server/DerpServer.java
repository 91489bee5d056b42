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
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
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
 * One address (an IPv6 /64) holds at most {@code maxConnectionsPerIp} connections; after the
 * handshake, the idle and write time-outs close clients that fall silent or stop reading.
 */
public final class DerpServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DerpServer.class.getName());
  private static final AttributeKey<ScheduledFuture<?>> DEADLINE = AttributeKey.valueOf("derp-handshake-deadline");
  /** The address a connection counts against in {@link #perIp}, until it closes or is exempted. */
  private static final AttributeKey<InetAddress> COUNTED_AS = AttributeKey.valueOf("derp-counted-as");
  /**
   * Bytes waiting in a connection's socket write buffer beyond which it is unwritable: the server
   * then writes nothing more to it (relayed packets wait in its bounded queue, frames the server
   * sends on its own are dropped) until it drains to {@link #WRITE_LOW_WATER}.
   */
  static final int WRITE_HIGH_WATER = 1 << 20;
  static final int WRITE_LOW_WATER = 256 << 10;

  final DerpServerConfig config;
  final ServerMetrics metrics = new ServerMetrics();
  final ClientRegistry registry = new ClientRegistry();
  final Mesh mesh;
  /** Open connections per IPv4 address or IPv6 /64; an entry goes when its count reaches 0. */
  private final ConcurrentHashMap<InetAddress, Integer> perIp = new ConcurrentHashMap<>();
  private final NodePublicKey publicKey;
  private final EventLoopGroup bossGroup;
  private final EventLoopGroup workerGroup;
  private final Channel serverChannel;
  /** Every accepted connection, closed one by one when the server closes (a channel leaves when it closes). */
  private final io.netty.channel.group.ChannelGroup accepted =
      new io.netty.channel.group.DefaultChannelGroup("derp-accepted", io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);

  private DerpServer(DerpServerConfig config) throws IOException {
    this.config = config;
    this.publicKey = config.privateKey().publicKey();
    this.mesh = new Mesh(this);
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
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(WRITE_LOW_WATER, WRITE_HIGH_WATER))
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
    mesh.start(workerGroup);
  }

  /** Binds and starts serving. */
  public static DerpServer start(DerpServerConfig config) throws IOException {
    return new DerpServer(config);
  }

  private void accept(SocketChannel ch) {
    metrics.accepts.increment();
    accepted.add(ch);
    if (metrics.connections.incrementAndGet() > config.maxConnections) {
      metrics.connections.decrementAndGet();
      metrics.refusedOverLimit.increment();
      LOG.log(Level.WARNING, "refusing connection from {0}: {1} connections already open", ch.remoteAddress(),
          config.maxConnections);
      ch.close();
      return;
    }
    ch.closeFuture().addListener(f -> metrics.connections.decrementAndGet());
    InetAddress source = sourceOf(ch);
    if (source != null) {
      if (perIp.merge(source, 1, Integer::sum) > config.maxConnectionsPerIp) {
        perIp.computeIfPresent(source, (a, n) -> n > 1 ? n - 1 : null);
        metrics.refusedPerIp.increment();
        LOG.log(Level.WARNING, "refusing connection from {0}: {1} connections from that address already open",
            ch.remoteAddress(), config.maxConnectionsPerIp);
        ch.close();
        return;
      }
      ch.attr(COUNTED_AS).set(source);
      ch.closeFuture().addListener(f -> exemptFromPerIpCap(ch));
    }
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
    ch.pipeline().addLast(HttpFront.HEAD_DECODER, HttpHeadDecoder.forRequests());
    ch.pipeline().addLast("http-front", new HttpFront(this));
  }

  /**
   * What {@code ch}'s peer counts against: its IPv4 address, or the /64 of its IPv6 address (a
   * host usually holds a whole /64, so one address each would be no limit); null if unknown.
   */
  private static InetAddress sourceOf(SocketChannel ch) {
    InetSocketAddress remote = ch.remoteAddress();
    return remote == null ? null : countedAs(remote.getAddress());
  }

  /** {@code a} itself for IPv4, its /64 (the rest zero) for IPv6. */
  static InetAddress countedAs(InetAddress a) {
    if (a instanceof Inet6Address) {
      byte[] prefix = Arrays.copyOf(a.getAddress(), 16);
      Arrays.fill(prefix, 8, 16, (byte) 0);
      try {
        return InetAddress.getByAddress(prefix);
      } catch (UnknownHostException e) {
        throw new AssertionError("16 bytes are an IPv6 address", e);
      }
    }
    return a;
  }

  /** {@code ch} no longer counts against its address's cap (it closed, or is a mesh peer). */
  void exemptFromPerIpCap(Channel ch) {
    InetAddress source = ch.attr(COUNTED_AS).getAndSet(null);
    if (source != null) {
      perIp.computeIfPresent(source, (a, n) -> n > 1 ? n - 1 : null);
    }
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

  /**
   * Dials one more relay of this region as a mesh peer (the configured ones are dialed at start).
   *
   * @throws IllegalStateException when this server has no mesh key
   */
  public void addMeshPeer(dev.derphole.derp.client.DerpEndpoint peer) {
    mesh.add(peer);
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
    mesh.close();
    accepted.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** One line for a log: the innermost useful message of an error. */
  static String describe(Throwable t) {
    return dev.derphole.derp.io.Failures.describe(t);
  }
}
