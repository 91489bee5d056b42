package dev.derphole.session.tunnel.udp;

import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.io.Failures;
import dev.derphole.derp.net.IpLiteral;
import dev.derphole.session.Reporter;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code derptun open --udp}: one local UDP socket; every client address that sends to it is a
 * flow with an id of its own, and its datagrams go through the tunnel as {@link UdpFrame}s. The
 * server's replies come back under the flow's id and go out of the same socket to that address
 * only.
 *
 * <pre>
 *   client A ─┐                 ┌─ flow 1 ─┐
 *   client B ─┼─ local socket ──┼─ flow 2 ─┼─ QUIC DATAGRAM frames ─▶ serve
 *   client C ─┘                 └─ flow 3 ─┘
 * </pre>
 *
 * Flows outlive a reconnect ({@link #use} moves them to the new connection, under the same ids);
 * a flow ends after {@link UdpLimits#idleTimeout} without a datagram either way. At most
 * {@link UdpLimits#maxFlows} flows at once: a new address beyond that is dropped until one ends.
 * While the tunnel is down, datagrams are dropped and counted, as a network would lose them.
 */
public final class UdpListener implements AutoCloseable {
  private final DatagramChannel socket;
  private final UdpLimits limits;
  private final Reporter reporter;
  private final UdpDrops drops;
  private final Map<InetSocketAddress, Flow> byAddress = new ConcurrentHashMap<>();
  private final Map<Integer, Flow> byId = new ConcurrentHashMap<>();
  private final ScheduledFuture<?> sweep;
  /** Counts the datagrams QUIC would not take: too large for the connection's frames, or the connection closed. */
  private final ChannelFutureListener countFailure;
  /** Socket event loop only. */
  private int nextId;
  /** Frames read in this batch, for the connection (socket event loop only). */
  private final java.util.List<ByteBuf> toTunnel = new java.util.ArrayList<>();

  private volatile QuicChannel quic;

  private static final class Flow {
    final int id;
    final InetSocketAddress address;
    volatile long lastActive = System.nanoTime();

    Flow(int id, InetSocketAddress address) {
      this.id = id;
      this.address = address;
    }
  }

  private UdpListener(DatagramChannel socket, UdpLimits limits, Reporter reporter) {
    this.socket = socket;
    this.limits = limits;
    this.reporter = reporter;
    this.drops = new UdpDrops(reporter, socket.eventLoop());
    this.countFailure = f -> {
      if (!f.isSuccess()) {
        drops.drop(f.cause() instanceof java.nio.BufferUnderflowException ? UdpDrops.Reason.OVERSIZED : UdpDrops.Reason.NO_TUNNEL);
      }
    };
    long every = limits.sweep().toMillis();
    this.sweep = socket.eventLoop().scheduleAtFixedRate(this::expire, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Binds {@code address} (port 0: any free port). Datagrams are read at once; until {@link #use}
   * gives a connection they are dropped as {@link UdpDrops.Reason#NO_TUNNEL}.
   *
   * @throws IOException "cannot listen on udp 127.0.0.1:53: Address already in use" and the like
   */
  public static UdpListener bind(EventLoopGroup group, InetSocketAddress address, UdpLimits limits, Reporter reporter)
      throws IOException {
    Reader reader = new Reader();
    Bootstrap b = new Bootstrap().group(group).channel(EventLoops.datagram(group))
        .option(ChannelOption.SO_RCVBUF, 4 << 20)
        .option(ChannelOption.SO_SNDBUF, 4 << 20)
        // One byte more than the largest payload: a read that fills it was a larger datagram, cut short.
        .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(UdpFrame.MAX_PAYLOAD + 1))
        .handler(reader);
    DatagramChannel ch;
    try {
      ch = (DatagramChannel) b.bind(address).sync().channel();
    } catch (Exception e) {
      throw new IOException("cannot listen on udp " + IpLiteral.format(address) + ": " + Failures.describe(e), e);
    }
    UdpListener l = new UdpListener(ch, limits, reporter);
    reader.listener = l;
    return l;
  }

  public InetSocketAddress localAddress() {
    return socket.localAddress();
  }

  /** Datagrams dropped so far, by reason. */
  public UdpDrops drops() {
    return drops;
  }

  /** Forwards through {@code q} from now on (the tunnel's newest connection); the flows stay. */
  public void use(QuicChannel q) {
    q.pipeline().addLast(new Replies());
    quic = q;
    moveTo(q.eventLoop());
  }

  /**
   * Puts the local socket on the connection's event loop, so that a read burst goes into QUIC and
   * the replies go out without a hand-off between threads (measured: docs/benchmarks.md). Until
   * then, and while it moves, datagrams wait in the socket's buffer.
   */
  private void moveTo(EventLoop loop) {
    EventLoop now = socket.eventLoop();
    if (now == loop) {
      return;
    }
    try {
      now.execute(() -> {
        if (socket.eventLoop() != loop && socket.isRegistered() && socket.isOpen()) {
          flushToTunnel();
          socket.deregister().addListener(f -> {
            if (f.isSuccess() && socket.isOpen()) {
              loop.register(socket);
            }
          });
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  private void fromClient(DatagramPacket p) {
    ByteBuf payload = p.content();
    if (payload.readableBytes() > UdpFrame.MAX_PAYLOAD) {
      drops.drop(UdpDrops.Reason.OVERSIZED);
      return;
    }
    Flow f = byAddress.get(p.sender());
    if (f == null) {
      if (byAddress.size() >= limits.maxFlows()) {
        drops.drop(UdpDrops.Reason.FLOW_LIMIT);
        return;
      }
      f = new Flow(nextId++, p.sender());
      byAddress.put(f.address, f);
      byId.put(f.id, f);
      reporter.event("udp-flow-opened", IpLiteral.format(f.address) + " (flow " + Integer.toUnsignedString(f.id) + "; "
          + byAddress.size() + " open)");
    }
    f.lastActive = System.nanoTime();
    QuicChannel q = quic;
    if (q == null || !q.isActive()) {
      drops.drop(UdpDrops.Reason.NO_TUNNEL);
      return;
    }
    toTunnel.add(UdpFrame.encode(q.alloc(), f.id, payload));
  }

  /**
   * Hands the frames of one read batch to the connection's event loop in one task: one thread
   * hand-off per batch, not per datagram (the socket and the connection may be on different loops).
   */
  private void flushToTunnel() {
    if (toTunnel.isEmpty()) {
      return;
    }
    QuicChannel q = quic;
    ByteBuf[] batch = toTunnel.toArray(new ByteBuf[0]);
    toTunnel.clear();
    if (q == null) {
      for (ByteBuf b : batch) {
        b.release();
        drops.drop(UdpDrops.Reason.NO_TUNNEL);
      }
      return;
    }
    Runnable send = () -> {
      for (ByteBuf b : batch) {
        q.write(b).addListener(countFailure);
      }
      q.flush();
    };
    if (q.eventLoop().inEventLoop()) {
      send.run();
    } else {
      q.eventLoop().execute(send);
    }
  }


  private void fromTunnel(ByteBuf frame, java.util.List<DatagramPacket> toClients) {
    long id = UdpFrame.flow(frame);
    if (id < 0) {
      drops.drop(UdpDrops.Reason.MALFORMED);
      return;
    }
    Flow f = byId.get((int) id);
    if (f == null) {
      drops.drop(UdpDrops.Reason.UNKNOWN_FLOW);
      return;
    }
    if (!socket.isWritable()) {
      drops.drop(UdpDrops.Reason.BACKLOG);
      return;
    }
    f.lastActive = System.nanoTime();
    toClients.add(new DatagramPacket(UdpFrame.payload(frame).retain(), f.address));
  }

  /** As {@link #flushToTunnel}, the other way: one hand-off to the socket's loop per batch of replies. */
  private void flushToClients(java.util.List<DatagramPacket> toClients) {
    if (toClients.isEmpty()) {
      return;
    }
    DatagramPacket[] batch = toClients.toArray(new DatagramPacket[0]);
    toClients.clear();
    Runnable send = () -> {
      for (DatagramPacket p : batch) {
        socket.write(p, socket.voidPromise());
      }
      socket.flush();
    };
    if (socket.eventLoop().inEventLoop()) {
      send.run();
    } else {
      socket.eventLoop().execute(send);
    }
  }

  private void expire() {
    long now = System.nanoTime();
    long idle = limits.idleTimeout().toNanos();
    for (Flow f : byAddress.values()) {
      if (now - f.lastActive > idle && byAddress.remove(f.address, f)) {
        byId.remove(f.id, f);
        reporter.event("udp-flow-closed", IpLiteral.format(f.address) + " (flow " + Integer.toUnsignedString(f.id)
            + "; idle " + limits.idleTimeout().toSeconds() + " s; " + byAddress.size() + " open)");
      }
    }
  }

  /** Flows open now. */
  public int flows() {
    return byAddress.size();
  }

  @Override
  public void close() {
    sweep.cancel(false);
    socket.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    // The socket's loop has stopped reading: a batch it did not hand on is released here.
    try {
      socket.eventLoop().execute(() -> {
        toTunnel.forEach(ByteBuf::release);
        toTunnel.clear();
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // the loop is gone, and its buffers with it
    }
  }

  /** The local socket's reader: every datagram a client sends. */
  private static final class Reader extends SimpleChannelInboundHandler<DatagramPacket> {
    volatile UdpListener listener;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
      UdpListener l = listener;
      if (l != null) {
        l.fromClient(p);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      UdpListener l = listener;
      if (l != null) {
        l.flushToTunnel();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // An ICMP error from a client that went away, and the like: the socket carries on.
    }
  }

  /** On the tunnel's connection: the server's replies, which are DATAGRAM frames. */
  private final class Replies extends ChannelInboundHandlerAdapter {
    /** Replies read in this batch (this connection's event loop only). */
    private final java.util.List<DatagramPacket> toClients = new java.util.ArrayList<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf frame)) {
        ctx.fireChannelRead(msg);
        return;
      }
      try {
        fromTunnel(frame, toClients);
      } finally {
        ReferenceCountUtil.release(frame);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      flushToClients(toClients);
      ctx.fireChannelReadComplete();
    }
  }
}
