package dev.derphole.session.share;

import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.io.Failures;
import dev.derphole.derp.net.IpLiteral;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connecting side of a forward ({@code derphole open}, {@code derptun open}): a local TCP
 * listener where every accepted connection becomes one new QUIC stream on the session's
 * connection, joined to it by a {@link TcpStreamBridge}.
 *
 * <pre>
 *   bind ──▶ (connections wait in the kernel's backlog) ──start(quic)──▶ accept
 *   accept ──▶ over the limit? reset it, events.refused(…)
 *          └─▶ open a stream, write the {@link StreamHeader} at once, bridge
 * </pre>
 *
 * <p>Binding is separate from starting so that a command can fail on a taken port before it
 * spends a one-shot token, and accept only once the session is up. The header goes out as soon as
 * the stream exists, not with the client's first byte: the other side learns of the stream at once
 * and can dial a target that speaks first. Accepted connections are registered on the QUIC
 * connection's event loop, so a byte never changes threads between socket and stream.
 *
 * <p>The limit counts connections from accept to close. Beyond it, a new connection is reset at
 * once (the client sees "connection reset", not a hang) and {@link ConnectionEvents#refused} says
 * why; it must stay below the peer's QUIC stream limit.
 *
 * <pre>{@code
 *   try (OpenListener l = OpenListener.bind(group, new InetSocketAddress("127.0.0.1", 0), 512, events)) {
 *     System.err.println("listening on " + l.localAddress());
 *     l.start(session.connection());
 *     session.connection().closeFuture().await();
 *   }
 * }</pre>
 */
public final class OpenListener implements AutoCloseable {
  /** The default connection limit: hundreds at once, well inside QUIC's stream limit. */
  public static final int DEFAULT_MAX_CONNECTIONS = 512;
  /**
   * The highest connection limit: well inside QUIC's stream credit
   * ({@link dev.derphole.transport.quic.QuicTransport#MAX_BIDI_STREAMS}), which also covers the
   * streams still finishing after their connections closed.
   */
  public static final int MAX_CONNECTIONS = 1024;

  private static final System.Logger LOG = System.getLogger(OpenListener.class.getName());

  private final ServerSocketChannel server;
  private final int maxConnections;
  private final ConnectionEvents events;
  private final AtomicInteger open = new AtomicInteger();
  private final Set<Channel> children = ConcurrentHashMap.newKeySet();
  private volatile QuicChannel quic;

  private OpenListener(ServerSocketChannel server, int maxConnections, ConnectionEvents events) {
    this.server = server;
    this.maxConnections = maxConnections;
    this.events = events;
  }

  /**
   * Listens on {@code address} (port 0: any free port) without accepting yet.
   *
   * @throws IOException "cannot listen on 127.0.0.1:8080: Address already in use" and the like
   */
  public static OpenListener bind(EventLoopGroup group, InetSocketAddress address, int maxConnections,
                                  ConnectionEvents events) throws IOException {
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
    }
    ServerSocketChannel server;
    try {
      server = EventLoops.serverSocket(group).getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IOException("cannot create a TCP listener: " + e, e);
    }
    server.config().setAutoRead(false);
    OpenListener l = new OpenListener(server, maxConnections, events == null ? ConnectionEvents.NONE : events);
    server.pipeline().addLast(l.new Acceptor());
    try {
      group.next().register(server).syncUninterruptibly();
      server.bind(address).syncUninterruptibly();
    } catch (Exception e) {
      server.close();
      throw new IOException("cannot listen on " + IpLiteral.format(address) + ": " + Failures.describe(e), e);
    }
    return l;
  }

  /** Where clients connect: the bound address, with the port the system chose for port 0. */
  public InetSocketAddress localAddress() {
    return server.localAddress();
  }

  /** Starts accepting; each connection opens a stream on {@code quic}. When {@code quic} closes, so does this. */
  public void start(QuicChannel quic) {
    this.quic = quic;
    quic.closeFuture().addListener(f -> close());
    server.config().setAutoRead(true);
  }

  /**
   * Starts accepting on {@code quic} without tying the listener's life to it: a derptun client
   * calls this again with each new connection after a reconnect. While the connection is down,
   * new TCP connections are closed at once.
   */
  public void use(QuicChannel quic) {
    this.quic = quic;
    server.config().setAutoRead(true);
  }

  /**
   * Accepts before any connection was given to {@link #use}: until one is, each new TCP connection
   * is closed at once instead of waiting in the listen backlog (derptun open whose server has not
   * been reached yet).
   */
  public void acceptWhileDown() {
    server.config().setAutoRead(true);
  }

  /** Connections accepted and not yet closed. */
  public int openConnections() {
    return open.get();
  }

  /** Stops listening and resets every connection still open. */
  @Override
  public void close() {
    server.close().syncUninterruptibly();
    for (Channel c : children) {
      c.close();
    }
  }

  private static void reset(Channel c) {
    try {
      c.config().setOption(ChannelOption.SO_LINGER, 0);
    } catch (RuntimeException ignored) {
      // closes with a FIN instead
    }
    c.close();
  }

  /** Takes each accepted connection from the listening socket. */
  private final class Acceptor extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Channel child = (Channel) msg;
      QuicChannel q = quic;
      if (q == null || !q.isActive()) {
        child.unsafe().closeForcibly();
        return;
      }
      if (open.get() >= maxConnections) {
        child.config().setOption(ChannelOption.SO_LINGER, 0);
        child.unsafe().closeForcibly();
        events.refused("connection limit reached (" + maxConnections + " open); resetting a new connection");
        return;
      }
      open.incrementAndGet();
      child.config().setAutoRead(false);
      child.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
      child.config().setOption(ChannelOption.TCP_NODELAY, true);
      TcpStreamBridge.holdUntilJoined(child);
      q.eventLoop().register(child).addListener(f -> {
        if (!f.isSuccess()) {
          open.decrementAndGet();
          child.unsafe().closeForcibly();
          return;
        }
        children.add(child);
        boolean[] bridged = new boolean[1];
        child.closeFuture().addListener(c -> {
          children.remove(child);
          int left = open.decrementAndGet();
          if (bridged[0]) {
            events.closed(left);
          }
        });
        if (dev.derphole.transport.quic.QuicConnections.bidiStreamsLeft(q) <= 0) {
          // Netty takes a stream id even for a stream quiche refuses, and ids the other side never
          // granted would stay out of reach for good: ask first, so the session recovers as soon
          // as finishing streams give the credit back.
          events.refused("the other side allows no more streams for now (its QUIC stream limit); resetting a new connection");
          reset(child);
          return;
        }
        q.newStreamBootstrap()
            .type(QuicStreamType.BIDIRECTIONAL)
            .option(ChannelOption.AUTO_READ, false)
            .handler(new ChannelInboundHandlerAdapter())
            .create().addListener(s -> {
          if (!s.isSuccess()) {
            events.refused("cannot open a stream to the other side: " + s.cause().getMessage());
            reset(child);
            return;
          }
          QuicStreamChannel stream = (QuicStreamChannel) s.getNow();
          stream.writeAndFlush(StreamHeader.encode(stream.alloc().directBuffer(StreamHeader.LENGTH)));
          if (!child.isActive()) {
            TcpStreamBridge.reset(stream);
            return;
          }
          bridged[0] = true;
          events.opened(open.get());
          TcpStreamBridge.join((DuplexChannel) child, stream);
        });
      });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // Accept failures (too many open files, …) must not stop the listener.
      LOG.log(System.Logger.Level.WARNING, "accepting a connection failed: " + cause.getMessage());
    }
  }
}
