package dev.derphole.session.share;

import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.io.Failures;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The serving side of a forward ({@code derphole share}, {@code derptun serve}): every QUIC stream
 * the peer opens is one TCP connection to {@code target}, dialled when the stream arrives and
 * joined to it by a {@link TcpStreamBridge}. A target that refuses or goes away closes that stream
 * only; the session and the other streams carry on.
 *
 * <pre>
 *   peer opens stream ──▶ [header check] ──▶ dial target ──▶ TcpStreamBridge(stream ⇄ TCP)
 *                              │                   └─ refused: close the stream, events.refused(…)
 *                              └─ not a forwarded-connection stream: close it
 * </pre>
 *
 * <p>The dial starts at once, in parallel with reading the {@link StreamHeader}, so a
 * server-speaks-first target (SMTP, SSH) greets the client as soon as the stream exists. The TCP
 * connection runs on the stream's event loop: no byte changes threads on its way through.
 *
 * <pre>{@code
 *   ShareServer share = new ShareServer(InetSocketAddress.createUnresolved("127.0.0.1", 3000), events);
 *   IssuedSession.open(Capability.SHARE, options, share.streamHandler());
 * }</pre>
 */
public final class ShareServer {
  /** How long a dial to the target may take before the stream is given up. */
  static final int CONNECT_TIMEOUT_MILLIS = 10_000;

  private final InetSocketAddress target;
  private final ConnectionEvents events;
  private final AtomicInteger open = new AtomicInteger();

  /**
   * @param target where each stream goes; an unresolved address is resolved again for every
   *               connection, so a name that moves is followed
   */
  public ShareServer(InetSocketAddress target, ConnectionEvents events) {
    if (target == null || target.getPort() == 0) {
      throw new IllegalArgumentException("target needs a port: " + target);
    }
    this.target = target;
    this.events = events == null ? ConnectionEvents.NONE : events;
  }

  /** Connections bridged right now. */
  public int openConnections() {
    return open.get();
  }

  /** The handler for incoming QUIC streams (sharable: give it to the QUIC server as its stream handler). */
  public ChannelHandler streamHandler() {
    return new ChannelInitializer<QuicStreamChannel>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(new Arrival(ch));
      }
    };
  }

  /** "host:port" as the user wrote it. */
  String targetText() {
    return target.getHostString() + ":" + target.getPort();
  }

  /** One incoming stream until it is bridged: checks the header, dials, then hands over. */
  private final class Arrival extends ChannelInboundHandlerAdapter {
    private final QuicStreamChannel stream;
    /** Stream bytes that arrived with the header, for the target before anything else. */
    private final List<ByteBuf> held = new ArrayList<>();
    private boolean inputEnded;
    private ByteBuf header = Unpooled.buffer(StreamHeader.LENGTH);
    private boolean headerOk;
    private DuplexChannel tcp;
    private boolean done;

    Arrival(QuicStreamChannel stream) {
      this.stream = stream;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      if (stream.isActive()) {
        start(ctx);
      }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      start(ctx);
      ctx.fireChannelActive();
    }

    private boolean started;

    private void start(ChannelHandlerContext ctx) {
      if (started) {
        return;
      }
      started = true;
      ChannelFuture dial = new Bootstrap()
          .group(stream.eventLoop())
          .channel(EventLoops.socket(stream.eventLoop()))
          .option(ChannelOption.AUTO_READ, false)
          .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
          .handler(new ChannelInitializer<io.netty.channel.Channel>() {
            @Override
            protected void initChannel(io.netty.channel.Channel ch) {
              TcpStreamBridge.holdUntilJoined(ch); // a target that speaks first and closes at once
            }
          })
          .connect(target);
      dial.addListener(f -> {
        if (f.isSuccess()) {
          tcp = (DuplexChannel) dial.channel();
          maybeJoin(ctx);
        } else if (!done) {
          done = true;
          events.refused("cannot connect to " + targetText() + ": " + Failures.describe(f.cause()));
          release();
          TcpStreamBridge.reset(stream);
        }
      });
      stream.closeFuture().addListener(f -> {
        if (!done) { // the client went away before the bridge existed
          done = true;
          release();
          if (tcp != null) {
            tcp.close();
          } else {
            dial.channel().close();
          }
        }
      });
      ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (headerOk) {
        held.add((ByteBuf) msg);
        return;
      }
      ByteBuf in = (ByteBuf) msg;
      header.writeBytes(in, Math.min(in.readableBytes(), header.writableBytes()));
      try {
        if (!StreamHeader.decode(header)) {
          in.release();
          return;
        }
      } catch (IllegalArgumentException e) {
        in.release();
        done = true;
        events.refused("refused a stream from the other side: " + e.getMessage());
        release();
        TcpStreamBridge.reset(stream);
        if (tcp != null) {
          tcp.close();
        }
        return;
      }
      headerOk = true;
      if (in.isReadable()) {
        held.add(in);
      } else {
        in.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (!headerOk && !done) {
        ctx.read(); // the header may come in pieces
      }
      maybeJoin(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent || evt instanceof ChannelInputShutdownReadComplete) {
        inputEnded = true;
        if (!headerOk && !done) { // a FIN before a whole header: nothing to forward
          done = true;
          release();
          TcpStreamBridge.reset(stream);
          if (tcp != null) {
            tcp.close();
          }
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    private void maybeJoin(ChannelHandlerContext ctx) {
      if (done || !headerOk || tcp == null) {
        return;
      }
      done = true;
      header.release();
      header = null;
      // Out of the way first: from here on the bridge reads the stream. What came with the header
      // goes to the target before anything the bridge reads (same event loop, writes in order).
      ctx.pipeline().remove(this);
      for (ByteBuf b : held) {
        tcp.write(b, tcp.voidPromise());
      }
      held.clear();
      tcp.flush();
      events.opened(open.incrementAndGet());
      TcpStreamBridge bridge = TcpStreamBridge.join(tcp, stream, inputEnded);
      bridge.closed().thenRun(() -> events.closed(open.decrementAndGet()));
    }

    private void release() {
      for (ByteBuf b : held) {
        b.release();
      }
      held.clear();
      if (header != null) {
        header.release();
        header = null;
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (!done) {
        done = true;
        release();
        TcpStreamBridge.reset(stream);
        if (tcp != null) {
          tcp.close();
        }
      } else {
        ctx.fireExceptionCaught(cause);
      }
    }
  }
}
