package dev.derphole.session.share;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Joins one TCP connection with one QUIC stream: bytes flow both ways, each direction at the pace
 * of its slower end, each direction ends on its own, and a failure on either end closes the pair
 * and nothing else.
 *
 * <pre>
 *            reads when the stream is writable              reads when the TCP side is writable
 *   TCP ─────────────────────────────────────▶ QUIC stream ─────────────────────────────────────▶ TCP
 *   FIN ───────────────────── (after the last write) FIN    FIN ─── (after the last write) shutdownOutput
 * </pre>
 *
 * <p><b>Backpressure.</b> Both channels run with auto-read off. A side is read only while the
 * other side is writable (below its high-water mark); when that fills, reading stops until the
 * other side drains below its low-water mark. So a slow TCP peer slows the QUIC stream through
 * QUIC's per-stream flow control, a slow QUIC path slows the TCP sender through TCP's window, and
 * one stalled connection never holds up the other streams of the session.
 *
 * <p><b>Half-close.</b> End of input on one side (a TCP FIN, a QUIC FIN) becomes a half-close of
 * the other side once every byte before it was written, never earlier (a QUIC FIN written while
 * data waits would cut the stream short). The other direction keeps flowing: a client that shuts
 * its write side still gets the whole reply. The pair closes when both directions have ended.
 *
 * <p><b>Failure.</b> A reset, an exception, or either channel closing while a direction is still
 * open aborts the pair: both channels close, the TCP side with a reset (SO_LINGER 0) so that its
 * peer cannot mistake a cut-off stream for a complete one.
 *
 * <p><b>Use.</b> Both channels must be active and registered, and must not have been read from
 * with auto-read on (set {@link ChannelOption#AUTO_READ} false before they register: bytes that
 * arrive before {@link #join} stay in the kernel or in QUIC's buffers until the bridge reads them).
 * They may run on different event loops; on the same one no byte crosses threads. The bridge sets
 * half-closure, {@code TCP_NODELAY} and write-buffer water marks on the channels.
 *
 * <pre>{@code
 *   TcpStreamBridge bridge = TcpStreamBridge.join(tcpChannel, quicStream);
 *   bridge.closed().thenRun(() -> count.decrementAndGet());
 * }</pre>
 */
public final class TcpStreamBridge {
  /** Per channel: stop reading the other side above 512 KiB queued, resume below 128 KiB. */
  static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(128 << 10, 512 << 10);
  static final String HANDLER = "tcp-stream-bridge";

  private static final System.Logger LOG = System.getLogger(TcpStreamBridge.class.getName());

  private final End tcp;
  private final End stream;
  private final AtomicBoolean aborted = new AtomicBoolean();
  private final AtomicBoolean finished = new AtomicBoolean();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();

  private TcpStreamBridge(DuplexChannel tcp, QuicStreamChannel stream) {
    this.tcp = new End(tcp, "tcp");
    this.stream = new End(stream, "stream");
    this.tcp.other = this.stream;
    this.stream.other = this.tcp;
  }

  /**
   * Starts bridging {@code tcp} and {@code stream}; returns at once. Whatever happens afterwards,
   * both channels end up closed and {@link #closed()} completes.
   */
  public static TcpStreamBridge join(DuplexChannel tcp, QuicStreamChannel stream) {
    return join(tcp, stream, false);
  }

  /**
   * As {@link #join(DuplexChannel, QuicStreamChannel)}, for a stream whose FIN was already read
   * (by whoever read its header) before the bridge existed.
   */
  static TcpStreamBridge join(DuplexChannel tcp, QuicStreamChannel stream, boolean streamInputEnded) {
    TcpStreamBridge b = new TcpStreamBridge(tcp, stream);
    tcp.config().setAutoRead(false);
    tcp.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    tcp.config().setOption(ChannelOption.TCP_NODELAY, true);
    tcp.config().setWriteBufferWaterMark(WATER_MARK);
    stream.config().setAutoRead(false);
    stream.config().setAllowHalfClosure(true);
    stream.config().setWriteBufferWaterMark(WATER_MARK);
    tcp.closeFuture().addListener(f -> b.onClosed());
    stream.closeFuture().addListener(f -> b.onClosed());
    tcp.pipeline().addLast(HANDLER, b.tcp);
    stream.pipeline().addLast(HANDLER, b.stream);
    if (!tcp.isActive() || !stream.isActive()) {
      b.abort("a side was already closed");
    } else {
      b.tcp.readMore();
      if (streamInputEnded && b.stream.inputEnded.compareAndSet(false, true)) {
        b.tcp.shutdownOutputAfterWrites();
      } else {
        b.stream.readMore();
      }
    }
    return b;
  }

  /** Completes once both channels are closed, in order or not. Never completes exceptionally. */
  public CompletableFuture<Void> closed() {
    return closed;
  }

  /** True once the pair was cut off rather than ending in order (an error, a reset, {@link #abort}). */
  public boolean aborted() {
    return aborted.get();
  }

  /** Cuts the pair off: both channels close now, the TCP side with a reset. */
  public void abort() {
    abort("closed by its owner");
  }

  private void abort(String why) {
    if (finished.get() || !aborted.compareAndSet(false, true)) {
      return;
    }
    LOG.log(System.Logger.Level.DEBUG, "bridge {0} ⇄ {1} aborted: {2}", tcp.channel, stream.channel, why);
    Channel t = tcp.channel;
    if (t.isOpen()) {
      try {
        t.config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException ignored) {
        // a channel type without SO_LINGER closes with a FIN instead
      }
    }
    t.close();
    stream.channel.close();
  }

  /** Both directions ended in order: close both channels (their outputs are already shut). */
  private void maybeFinish() {
    if (tcp.inputEnded.get() && stream.inputEnded.get() && tcp.outputShut && stream.outputShut
        && !aborted.get() && finished.compareAndSet(false, true)) {
      tcp.channel.close();
      stream.channel.close();
    }
  }

  private void onClosed() {
    if (!tcp.channel.isOpen() && !stream.channel.isOpen()) {
      closed.complete(null);
    }
  }

  /** The bridge's handler on one of the two channels; {@link #other} is the opposite end. */
  private final class End extends ChannelInboundHandlerAdapter {
    final Channel channel;
    final String name;
    End other;
    /** This channel's input has ended (FIN) and that was passed on. */
    final AtomicBoolean inputEnded = new AtomicBoolean();
    /** We have asked for this channel's output to be half-closed, after every byte. */
    volatile boolean outputShutting;
    /** That half-close is done. */
    volatile boolean outputShut;
    /** Reading this channel waits for {@link #other} to become writable. */
    final AtomicBoolean paused = new AtomicBoolean();

    End(Channel channel, String name) {
      this.channel = channel;
      this.name = name;
    }

    /** Reads this channel once more if the other side can take it, else waits for its writability. */
    void readMore() {
      if (other.channel.isWritable()) {
        channel.read();
        return;
      }
      paused.set(true);
      // The other side may have drained between the check and the flag: look once more.
      if (other.channel.isWritable() && paused.compareAndSet(true, false)) {
        channel.read();
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (aborted.get()) {
        ReferenceCountUtil.release(msg);
        return;
      }
      other.channel.write(msg, other.channel.voidPromise()); // a failed write fires exceptionCaught there
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      other.channel.flush();
      if (!inputEnded.get() && !aborted.get()) {
        readMore();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (channel.isWritable() && other.paused.compareAndSet(true, false)) {
        other.channel.read();
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if ((evt instanceof ChannelInputShutdownEvent || evt instanceof ChannelInputShutdownReadComplete)
          && inputEnded.compareAndSet(false, true)) {
        other.shutdownOutputAfterWrites();
      }
      ctx.fireUserEventTriggered(evt);
    }

    /**
     * Half-closes this channel once everything queued before is written. Write futures complete in
     * order, so when this empty write is done every earlier byte is; the shutdown then runs as a
     * task of its own (a FIN issued from inside a write completion or an input-shutdown event can
     * be lost or land early, see docs/architecture.md).
     */
    void shutdownOutputAfterWrites() {
      ChannelFuture last = channel.writeAndFlush(Unpooled.EMPTY_BUFFER);
      last.addListener(f -> {
        if (!f.isSuccess()) {
          abort(name + " write failed: " + f.cause());
          return;
        }
        channel.eventLoop().execute(() -> {
          outputShutting = true; // before the call: a QUIC stream may close inside it
          ((DuplexChannel) channel).shutdownOutput().addListener(g -> {
          if (g.isSuccess()) {
            outputShut = true;
            maybeFinish();
          } else {
            abort(name + " half-close failed: " + g.cause());
          }
        });
        });
      });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      // A QUIC stream closes by itself once both of its directions are done; that is no failure
      // as long as the opposite end still finishes its writes. Anything else cuts the pair off.
      if (!(inputEnded.get() && outputShutting)) {
        abort(name + " closed");
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      abort(name + ": " + cause);
    }
  }
}
