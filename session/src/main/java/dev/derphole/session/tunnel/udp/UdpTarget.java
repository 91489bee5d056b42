package dev.derphole.session.tunnel.udp;

import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.net.IpLiteral;
import dev.derphole.session.Reporter;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code derptun serve --udp}: the UDP service the tunnel forwards to. Each client connection
 * ({@link #attach}) gets a handler for its DATAGRAM frames; each flow id it sends opens a UDP
 * socket of its own, connected to the target, so the target sees one address per flow and its
 * replies go back under that flow's id only.
 *
 * <pre>
 *   QUIC DATAGRAM (flow 1) ──▶ socket 1 ──▶ target ──▶ socket 1 ──▶ QUIC DATAGRAM (flow 1)
 *   QUIC DATAGRAM (flow 2) ──▶ socket 2 ──▶ target ──▶ socket 2 ──▶ QUIC DATAGRAM (flow 2)
 * </pre>
 *
 * Everything a client sends is hostile: at most {@link UdpLimits#maxFlows} sockets at once over all
 * clients (a new flow beyond that is dropped), a socket closes after {@link UdpLimits#idleTimeout}
 * without a datagram either way and with its connection, and at most {@link #PENDING} datagrams
 * wait for a socket being opened. Each connection's flows live on its event loop.
 */
public final class UdpTarget {
  /** Datagrams held for a flow whose socket is not connected yet; more are dropped. */
  static final int PENDING = 16;
  /**
   * Datagrams written to a flow's socket before it is flushed: a read burst of the connection is
   * flushed once at its end (one {@code sendmmsg} where epoll has it), or every this many.
   */
  static final int FLUSH_EVERY = 64;

  private final InetSocketAddress target;
  private final UdpLimits limits;
  private final Reporter reporter;
  private final UdpDrops drops;
  private final AtomicInteger open = new AtomicInteger();

  /** @param target a resolved address; @param timer reports drops */
  public UdpTarget(InetSocketAddress target, UdpLimits limits, Reporter reporter, ScheduledExecutorService timer) {
    if (target.isUnresolved()) {
      throw new IllegalArgumentException("the UDP target must be resolved: " + target);
    }
    this.target = target;
    this.limits = limits;
    this.reporter = reporter;
    this.drops = new UdpDrops(reporter, timer);
  }

  /** Datagrams dropped so far, by reason. */
  public UdpDrops drops() {
    return drops;
  }

  /** Sockets toward the target now, over all connections. */
  public int flows() {
    return open.get();
  }

  /** Forwards the DATAGRAM frames of {@code q}, a client's connection, from now until it closes. */
  public void attach(QuicChannel q) {
    q.pipeline().addLast(new Connection(q));
  }

  private boolean reserve() {
    while (true) {
      int n = open.get();
      if (n >= limits.maxFlows()) {
        return false;
      }
      if (open.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** One client connection's flows; event loop only. */
  private final class Connection extends ChannelInboundHandlerAdapter {
    private final QuicChannel quic;
    private final Map<Long, Flow> flows = new HashMap<>();
    private ScheduledFuture<?> sweep;
    private boolean closed;
    private boolean repliesPending;
    /** Flows written to in this read burst, not flushed yet. */
    private final ArrayList<Flow> unflushed = new ArrayList<>();

    Connection(QuicChannel quic) {
      this.quic = quic;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      long every = limits.sweep().toMillis();
      sweep = ctx.executor().scheduleAtFixedRate(this::expire, every, every, TimeUnit.MILLISECONDS);
      quic.closeFuture().addListener(f -> ctx.executor().execute(this::closeAll));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf frame)) {
        ctx.fireChannelRead(msg);
        return;
      }
      try {
        fromClient(frame);
      } finally {
        ReferenceCountUtil.release(frame);
      }
    }

    private void fromClient(ByteBuf frame) {
      long id = UdpFrame.flow(frame);
      if (id < 0) {
        drops.drop(frame.readableBytes() > UdpFrame.HEADER + UdpFrame.MAX_PAYLOAD
            ? UdpDrops.Reason.OVERSIZED : UdpDrops.Reason.MALFORMED);
        return;
      }
      if (closed) {
        return;
      }
      Flow f = flows.get(id);
      if (f == null) {
        if (!reserve()) {
          drops.drop(UdpDrops.Reason.FLOW_LIMIT);
          return;
        }
        f = new Flow(id);
        flows.put(id, f);
        f.open();
      }
      f.send(UdpFrame.payload(frame));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      flushTargets();
      ctx.fireChannelReadComplete();
    }

    private void flushTargets() {
      for (int i = 0; i < unflushed.size(); i++) {
        Flow f = unflushed.get(i);
        f.listed = false;
        f.flush();
      }
      unflushed.clear();
    }

    private void flushReplies() {
      if (repliesPending) {
        repliesPending = false;
        quic.flush();
      }
    }

    private void expire() {
      long now = System.nanoTime();
      long idle = limits.idleTimeout().toNanos();
      for (Flow f : new ArrayList<>(flows.values())) {
        if (now - f.lastActive > idle) {
          f.close("idle " + limits.idleTimeout().toSeconds() + " s");
        }
      }
    }

    private void closeAll() {
      if (closed) {
        return;
      }
      closed = true;
      if (sweep != null) {
        sweep.cancel(false);
      }
      for (Flow f : new ArrayList<>(flows.values())) {
        f.close("connection closed");
      }
    }

    /** One flow id's socket toward the target. */
    private final class Flow {
      final long id;
      final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
      Channel socket;
      boolean connected;
      /** Written since the last flush. */
      int unflushedWrites;
      /** In {@link Connection#unflushed}. */
      boolean listed;
      long lastActive = System.nanoTime();

      Flow(long id) {
        this.id = id;
      }

      void open() {
        ChannelFuture cf = new Bootstrap().group(quic.eventLoop()).channel(EventLoops.datagram(quic.eventLoop()))
            .option(ChannelOption.SO_RCVBUF, 1 << 20)
            .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(UdpFrame.MAX_PAYLOAD + 1))
            .handler(new FromTarget(this))
            .connect(target);
        socket = cf.channel();
        socket.closeFuture().addListener(x -> close("socket closed"));
        cf.addListener(done -> {
          if (!done.isSuccess()) {
            reporter.event("udp-flow-failed", "flow " + id + " (" + done.cause().getMessage() + ")");
            close("cannot reach " + IpLiteral.format(target));
            return;
          }
          connected = true;
          reporter.event("udp-flow-opened", "flow " + id + " from " + IpLiteral.format((InetSocketAddress) socket.localAddress())
              + " (" + open.get() + " open)");
          while (!pending.isEmpty()) {
            socket.write(pending.poll(), socket.voidPromise());
          }
          socket.flush();
        });
      }

      void send(ByteBuf payload) {
        lastActive = System.nanoTime();
        if (!connected) {
          if (pending.size() >= PENDING || socket == null || !socket.isOpen()) {
            drops.drop(UdpDrops.Reason.BACKLOG);
          } else {
            pending.add(payload.retainedDuplicate());
          }
          return;
        }
        if (!socket.isWritable()) {
          drops.drop(UdpDrops.Reason.BACKLOG);
          return;
        }
        socket.write(payload.retainedDuplicate(), socket.voidPromise());
        if (++unflushedWrites >= FLUSH_EVERY) {
          flush();
        } else if (!listed) {
          listed = true;
          unflushed.add(this);
        }
      }

      void flush() {
        if (unflushedWrites > 0) {
          unflushedWrites = 0;
          socket.flush();
        }
      }

      void fromTarget(ByteBuf payload) {
        if (payload.readableBytes() > UdpFrame.MAX_PAYLOAD) {
          drops.drop(UdpDrops.Reason.OVERSIZED);
          return;
        }
        if (closed || !quic.isActive()) {
          return;
        }
        lastActive = System.nanoTime();
        quic.write(UdpFrame.encode(quic.alloc(), (int) id, payload)).addListener(f -> {
          if (!f.isSuccess()) {
            drops.drop(f.cause() instanceof java.nio.BufferUnderflowException
                ? UdpDrops.Reason.OVERSIZED : UdpDrops.Reason.BACKLOG);
          }
        });
        repliesPending = true;
      }

      void close(String why) {
        if (flows.remove(id, this)) {
          open.decrementAndGet();
          pending.forEach(ReferenceCountUtil::release);
          pending.clear();
          socket.close();
          reporter.event("udp-flow-closed", "flow " + id + " (" + why + "; " + open.get() + " open)");
        }
      }
    }

    /** Reads the target's replies on one flow's socket. */
    private final class FromTarget extends ChannelInboundHandlerAdapter {
      private final Flow flow;

      FromTarget(Flow flow) {
        this.flow = flow;
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
          ByteBuf payload = msg instanceof DatagramPacket p ? p.content() : msg instanceof ByteBuf b ? b : null;
          if (payload != null) {
            flow.fromTarget(payload);
          }
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }

      @Override
      public void channelReadComplete(ChannelHandlerContext ctx) {
        flushReplies();
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // ICMP port unreachable while the target is down, and the like: the flow carries on.
      }
    }
  }
}
