package dev.derphole.session.share;

import dev.derphole.session.stream.ReadGate;
import dev.derphole.transport.quic.QuicConnections;
import dev.derphole.transport.quic.StreamFin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.channels.NotYetConnectedException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Joins one TCP connection with one QUIC stream: bytes flow both ways, each direction at the pace
 * of its slower end, each direction ends on its own, and a failure on either end closes the pair
 * and nothing else.
 *
 * <pre>
 *            reads while the stream keeps up                reads while the TCP side keeps up
 *   TCP ─────────────────────────────────────▶ QUIC stream ─────────────────────────────────────▶ TCP
 *   FIN ───────────────────── (after the last write) FIN    FIN ─── (after the last write) shutdownOutput
 * </pre>
 *
 * <p><b>Backpressure.</b> Each side is read through a {@link ReadGate} counting what it delivered
 * until the other side's write completes ({@link #HIGH_WATER}, {@link #LOW_WATER}): a slow TCP
 * peer slows the stream through QUIC's flow control, a slow path slows the TCP sender through its
 * window, and one stalled connection never holds up the other streams of the session.
 *
 * <p><b>Half-close.</b> End of input on one side (a TCP FIN, a QUIC FIN) becomes a half-close of
 * the other side once every byte before it was written, never earlier. The other direction keeps
 * flowing. The TCP connection closes as soon as it is done both ways, without waiting for the
 * stream's own FIN ({@link StreamFin} may hold it back), so it does not keep its place under a
 * connection limit. Once the stream's far end has finished, the last byte read from TCP is kept
 * back (at most {@link #HOLD_BACK_MILLIS}) so that our FIN rides on it: the quiche bug behind this
 * is in docs/architecture.md.
 *
 * <p><b>Failure.</b> A reset, an exception, or either channel closing while a direction is still
 * open aborts the pair: both channels close, the TCP side with a reset (SO_LINGER 0) so that its
 * peer cannot mistake a cut-off stream for a complete one.
 *
 * <p><b>Use.</b> Both channels must be active and registered, and must not have been read from
 * with auto-read on (set {@link ChannelOption#AUTO_READ} false before they register: bytes that
 * arrive before {@link #join} stay in the kernel or in QUIC's buffers until the bridge reads them).
 * They may run on different event loops; on the same one no byte crosses threads. The bridge sets
 * half-closure and {@code TCP_NODELAY} on the channels.
 *
 * <pre>{@code
 *   TcpStreamBridge bridge = TcpStreamBridge.join(tcpChannel, quicStream);
 *   bridge.closed().thenRun(() -> count.decrementAndGet());
 * }</pre>
 */
public final class TcpStreamBridge {
  /** Stop reading a side while this much it sent waits to be taken by the other side … */
  static final int HIGH_WATER = 512 << 10;
  /** … and read again once no more than this waits. */
  static final int LOW_WATER = 128 << 10;
  /**
   * How long the last byte read from TCP may wait for more, once the stream's far end has
   * finished. A service that answers and closes within this time (the usual shape after a client
   * half-closes) has its last byte and our FIN sent in one QUIC frame; one that pauses longer
   * gets the byte after this delay, and its FIN later goes alone through {@link StreamFin}.
   */
  static final long HOLD_BACK_MILLIS = 200;
  /** The application error code of the RESET_STREAM and STOP_SENDING an aborted pair sends. */
  static final int ABORTED = 1;
  static final String HANDLER = "tcp-stream-bridge";
  static final String EARLY = "tcp-stream-bridge-early";

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
   * both channels end up closed and {@link #closed()} completes. If {@link #holdUntilJoined} was
   * installed on {@code tcp}, what it kept goes first.
   */
  public static TcpStreamBridge join(DuplexChannel tcp, QuicStreamChannel stream) {
    return join(tcp, stream, false);
  }

  /**
   * Keeps what {@code tcp} delivers before {@link #join} — bytes, its end of input, a failure —
   * for the bridge. Needed with epoll: when the peer has already half-closed, epoll reads
   * everything (auto-read off or not) as soon as the channel is registered, and without a holder
   * those bytes would reach the end of the pipeline and be dropped. Call it before the channel is
   * registered (e.g. in its initializer).
   */
  public static void holdUntilJoined(Channel tcp) {
    tcp.pipeline().addFirst(EARLY, new EarlyBytes());
  }

  /**
   * As {@link #join(DuplexChannel, QuicStreamChannel)}, for a stream whose FIN was already read
   * (by whoever read its header) before the bridge existed.
   */
  static TcpStreamBridge join(DuplexChannel tcp, QuicStreamChannel stream, boolean streamInputEnded) {
    TcpStreamBridge b = new TcpStreamBridge(tcp, stream);
    if (tcp.eventLoop().inEventLoop()) {
      b.start(streamInputEnded);
    } else {
      tcp.eventLoop().execute(() -> b.start(streamInputEnded));
    }
    return b;
  }

  /** On the TCP channel's event loop, so that nothing it reads can slip between holder and bridge. */
  private void start(boolean streamInputEnded) {
    DuplexChannel t = (DuplexChannel) tcp.channel;
    QuicStreamChannel s = (QuicStreamChannel) stream.channel;
    t.config().setAutoRead(false);
    t.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    t.config().setOption(ChannelOption.TCP_NODELAY, true);
    s.config().setAutoRead(false);
    s.config().setAllowHalfClosure(true);
    t.closeFuture().addListener(f -> onClosed());
    s.closeFuture().addListener(f -> onClosed());
    boolean tcpInputEnded = false;
    Throwable tcpFailure = null;
    if (t.pipeline().get(EARLY) instanceof EarlyBytes early) {
      java.util.List<Object> taken = new java.util.ArrayList<>(early.held);
      early.held.clear(); // before the removal, which releases whatever it still holds
      t.pipeline().remove(early);
      for (Object held : taken) {
        s.write(held, s.voidPromise());
      }
      s.flush();
      tcpInputEnded = early.inputEnded;
      tcpFailure = early.failure;
    }
    t.pipeline().addLast(HANDLER, tcp);
    s.pipeline().addLast(HANDLER, stream);
    if (tcpFailure != null) {
      abort("tcp: " + tcpFailure);
    } else if (!t.isActive() || !s.isActive()) {
      abort("a side was already closed");
    } else {
      if (tcpInputEnded && tcp.inputEnded.compareAndSet(false, true)) {
        stream.shutdownOutputAfterWrites();
      } else {
        tcp.readMore();
      }
      if (streamInputEnded && stream.inputEnded.compareAndSet(false, true)) {
        tcp.shutdownOutputAfterWrites();
      } else {
        stream.readMore();
      }
    }
  }

  /** See {@link #holdUntilJoined}. Runs on the channel's event loop only. */
  private static final class EarlyBytes extends ChannelInboundHandlerAdapter {
    final java.util.List<Object> held = new java.util.ArrayList<>();
    boolean inputEnded;
    Throwable failure;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      held.add(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent || evt instanceof ChannelInputShutdownReadComplete) {
        inputEnded = true;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof NotYetConnectedException && !ctx.channel().isActive()) {
        // Epoll can report a registered socket readable before connect() was even issued (the
        // address is resolved in between); that read fails and means nothing.
        return;
      }
      if (failure == null) {
        failure = cause;
      }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      held.forEach(ReferenceCountUtil::release); // nothing left when the bridge took them
      held.clear();
    }
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
    reset((QuicStreamChannel) stream.channel);
  }

  /**
   * Ends {@code stream} with RESET_STREAM and STOP_SENDING, then closes it: a plain close sends a
   * FIN, and the far end would take a cut-off or refused connection for a complete one.
   */
  static void reset(QuicStreamChannel stream) {
    stream.eventLoop().execute(() -> {
      if (stream.isActive()) {
        stream.shutdown(ABORTED).addListener(f -> stream.close());
      } else {
        stream.close();
      }
    });
  }

  /**
   * Closes the TCP connection once it is done both ways, and both channels once both directions
   * ended in order (their outputs are already shut).
   */
  private void maybeFinish() {
    if (aborted.get()) {
      return;
    }
    if (tcp.inputEnded.get() && tcp.outputShut && tcp.channel.isOpen()) {
      // Nothing more can flow on it; the stream finishes on its own (channelInactive of the TCP end
      // sees both flags and does not abort).
      tcp.channel.close();
    }
    if (tcp.inputEnded.get() && stream.inputEnded.get() && tcp.outputShut && stream.outputShut
        && finished.compareAndSet(false, true)) {
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
    /** Reading this channel, at the pace {@link #other} completes the writes of what it read. */
    final ReadGate gate = new ReadGate(HIGH_WATER, LOW_WATER, this::readIfOpen);
    /**
     * TCP side only, on its event loop: the last byte read after the stream's far end finished,
     * not yet written; it goes out with more bytes, with our FIN at end of input, or after
     * {@link #HOLD_BACK_MILLIS} without a read.
     */
    private ByteBuf heldByte;
    private ScheduledFuture<?> heldByteRelease;
    private long lastReadNanos;

    End(Channel channel, String name) {
      this.channel = channel;
      this.name = name;
    }

    /**
     * Reads this channel once more if the other side has room, else waits for its writes to
     * complete. Room is counted in completed write futures, not with Netty's writability: a QUIC
     * stream channel reports writability from QUIC's flow-control credit and ignores water marks,
     * and a write completes exactly when the other side (socket or QUIC) has taken the bytes.
     */
    void readMore() {
      if (inputEnded.get() || aborted.get()) {
        return; // never read past the end: epoll fails a read on a shut-down input
      }
      gate.readOrPause();
    }

    private void readIfOpen() {
      if (!inputEnded.get() && !aborted.get()) {
        channel.read();
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (aborted.get() || !other.channel.isActive()) {
        ReferenceCountUtil.release(msg);
        abort(other.name + " is closed");
        return;
      }
      ByteBuf chunk = (ByteBuf) msg;
      if (other.isStream() && other.inputEnded.get()) {
        // The stream's far end has finished: keep the last byte back so our FIN can ride on it.
        lastReadNanos = System.nanoTime();
        if (heldByte != null) {
          forward(heldByte);
        }
        int n = chunk.readableBytes();
        if (n > 1) {
          forward(chunk.readRetainedSlice(n - 1));
        }
        heldByte = chunk;
        return;
      }
      forward(chunk);
    }

    /** Writes {@code chunk} to the other side, counted until its write completes. */
    private void forward(ByteBuf chunk) {
      int n = chunk.readableBytes();
      if (other.channel instanceof QuicStreamChannel s) {
        // Requests read from many TCP connections in this loop turn share packets.
        QuicConnections.deferSend(s);
      }
      gate.added(n);
      other.channel.write(chunk).addListener(f -> {
        if (!f.isSuccess()) {
          abort(other.name + " write failed: " + f.cause());
        } else {
          gate.taken(n);
        }
      });
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (heldByte != null && heldByteRelease == null) {
        releaseHeldByteAfter(HOLD_BACK_MILLIS);
      }
      other.channel.flush();
      readMore();
    }

    /** Sends the held byte once {@link #HOLD_BACK_MILLIS} passed without a read. */
    private void releaseHeldByteAfter(long millis) {
      heldByteRelease = channel.eventLoop().schedule(() -> {
        heldByteRelease = null;
        if (heldByte == null) {
          return;
        }
        long quietNanos = System.nanoTime() - lastReadNanos;
        long holdNanos = TimeUnit.MILLISECONDS.toNanos(HOLD_BACK_MILLIS);
        if (quietNanos < holdNanos && !aborted.get()) {
          releaseHeldByteAfter(TimeUnit.NANOSECONDS.toMillis(holdNanos - quietNanos) + 1);
          return;
        }
        ByteBuf held = heldByte;
        heldByte = null;
        if (aborted.get()) {
          held.release();
        } else {
          forward(held);
          other.channel.flush();
        }
      }, millis, TimeUnit.MILLISECONDS);
    }

    private boolean isStream() {
      return channel instanceof QuicStreamChannel;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if ((evt instanceof ChannelInputShutdownEvent || evt instanceof ChannelInputShutdownReadComplete)
          && inputEnded.compareAndSet(false, true)) {
        ByteBuf held = heldByte;
        heldByte = null;
        if (heldByteRelease != null) {
          heldByteRelease.cancel(false);
          heldByteRelease = null;
        }
        if (held != null) {
          other.shutdownOutputWith(held);
        } else {
          other.shutdownOutputAfterWrites();
        }
        maybeFinish();
      }
      ctx.fireUserEventTriggered(evt);
    }

    /**
     * Writes {@code chunk} as the stream's last bytes with the FIN on the same frame. A FIN on data
     * is resent with it if lost; a FIN on its own, after data already sent, can be dropped by
     * quiche once the far end has finished (see {@link StreamFin}).
     */
    void shutdownOutputWith(ByteBuf chunk) {
      channel.eventLoop().execute(() -> {
        outputShutting = true; // before the write: the stream may close inside it
        int n = chunk.readableBytes();
        other.gate.added(n);
        channel.writeAndFlush(new DefaultQuicStreamFrame(chunk, true)).addListener(f -> {
          other.gate.taken(n);
          outputShutDone(f, " write failed: ");
        });
      });
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
          ChannelFuture fin = channel instanceof QuicStreamChannel q
              ? StreamFin.shutdown(q)
              : ((DuplexChannel) channel).shutdownOutput();
          fin.addListener(g -> outputShutDone(g, " half-close failed: "));
        });
      });
    }

    /** Our half-close is done (or failed, which cuts the pair off). */
    private void outputShutDone(io.netty.util.concurrent.Future<?> f, String failure) {
      if (f.isSuccess()) {
        outputShut = true;
        maybeFinish();
      } else {
        abort(name + failure + f.cause());
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (heldByte != null) {
        heldByte.release();
        heldByte = null;
      }
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
