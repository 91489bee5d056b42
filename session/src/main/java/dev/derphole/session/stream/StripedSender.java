package dev.derphole.session.stream;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.DirectLanes;
import dev.derphole.session.Reporter;
import dev.derphole.session.SessionException;
import dev.derphole.transport.lanes.Chunk;
import dev.derphole.transport.lanes.LaneSink;
import dev.derphole.transport.lanes.Striper;
import dev.derphole.transport.quic.StreamFin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The sending end of a byte stream striped over direct lanes (issue #34; docs/protocol.md "Direct
 * lanes"). Bytes go as chunk frames on lane 0's stream (the session's own connection) from the
 * first byte; each lane that comes up later ({@link DirectLanes}) gets a stream of its own and joins
 * the {@link Striper}. The transfer never waits for a lane. The receiver's delivered offset comes
 * back on lane 0's stream and frees the window ({@link #WINDOW}, never more than the receiver's
 * reorder bound); a lane whose stream or connection closes gives its unacknowledged chunks to the
 * others. Once everything is acknowledged every lane's stream gets its FIN, lane 0's last, and the
 * receiver's last value before its FIN is the confirmed count.
 *
 * <p>One thread (the caller's) owns the striper; the event loops hand it acknowledgements, room and
 * lanes through a queue.
 */
public final class StripedSender {
  /** Bytes sent and not yet acknowledged, at most: the receiver's reorder bound. */
  public static final long WINDOW = 32L << 20;
  /** Largest chunk payload. */
  static final int CHUNK = 64 << 10;
  /** Encoded bytes one lane may have waiting for its QUIC connection to take them. */
  static final int LANE_LIMIT = 1 << 20;

  /** How --parallel chose the lane count. */
  public enum Mode { FIXED, AUTO }

  private final DirectLanes lanes;
  private final Reporter reporter;
  private final BlockingQueue<Runnable> events = new LinkedBlockingQueue<>();
  private final AtomicBoolean wakePosted = new AtomicBoolean();
  private final List<QuicLane> sinks = new ArrayList<>();
  private final AckReader acks = new AckReader();
  private final LaneGrowth growth;
  /** The lane count asked for last (growth's target). */
  private int laneTarget;
  /** Read-ahead of the input: a few reads, then {@link #EOF} (compared by identity). */
  private final BlockingQueue<byte[]> input = new java.util.concurrent.ArrayBlockingQueue<>(8);
  private static final byte[] EOF = new byte[0];
  private volatile IOException inputFailure;
  private Striper striper;
  private volatile boolean finished;
  private IOException failure;

  private StripedSender(DirectLanes lanes, Reporter reporter, LaneGrowth growth) {
    this.lanes = lanes;
    this.reporter = reporter;
    this.growth = growth;
  }

  /**
   * Sends {@code in} striped; returns once the receiver confirmed every byte.
   *
   * @param lanes the session's lanes; the caller has made this sender their user ({@link #user})
   * @param count how many lanes to use (lane 0 included), or the most auto may grow to
   */
  public static long send(QuicChannel quic, DirectLanes lanes, InputStream in, Reporter reporter, int count, Mode mode,
                          LongConsumer progress, java.util.function.Consumer<DirectLanes.User> useLanes)
      throws SessionException, InterruptedException {
    int most = Math.min(count, lanes.agreed());
    return send(quic, lanes, in, reporter, new LaneGrowth(mode == Mode.AUTO ? 1 : most, most), mode, progress, useLanes);
  }

  /** As above, with the probe given (tests: one that decides as they say). */
  static long send(QuicChannel quic, DirectLanes lanes, InputStream in, Reporter reporter, LaneGrowth growth, Mode mode,
                   LongConsumer progress, java.util.function.Consumer<DirectLanes.User> useLanes)
      throws SessionException, InterruptedException {
    StripedSender s = new StripedSender(lanes, reporter, growth);
    useLanes.accept(s.user());
    return s.run(quic, in, progress, mode);
  }

  private DirectLanes.User user() {
    return new DirectLanes.User() {
      @Override
      public void connected(int lane, QuicChannel quic) {
        // The receiver opens the lane's stream; its hello makes the lane join.
      }

      @Override
      public io.netty.channel.ChannelHandler streamHandler(int lane) {
        return new QuicLane(lane).watch;
      }
    };
  }

  private long run(QuicChannel quic, InputStream in, LongConsumer progress, Mode mode) throws SessionException, InterruptedException {
    QuicLane zero = new QuicLane(0);
    try {
      zero.stream = quic.createStream(QuicStreamType.BIDIRECTIONAL, acks).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new SessionException("could not open a stream to the other side: " + e.getMessage(), e);
    }
    zero.stream.pipeline().addLast(zero.watch);
    zero.hello = true;
    sinks.add(zero);
    striper = new Striper(List.of(zero), CHUNK, WINDOW);
    reporter.event("lanes", growth.target() + " (" + (mode == Mode.AUTO ? "auto" : "fixed") + ")");
    laneTarget = growth.target();
    lanes.open(laneTarget);
    long started = System.nanoTime();
    Thread reader = new Thread(() -> readInput(in), "stream-input");
    reader.setDaemon(true);
    reader.start();
    byte[] buf = null;
    int off = 0;
    boolean eof = false;
    try {
      while (true) {
        runEvents();
        if (growth.step(System.nanoTime(), striper.acknowledged(), liveLanes(), lanes::direct, this::laneCount)) {
          reporter.event("lanes", growth.target() + " (auto)");
        }
        if (buf != null && off < buf.length) {
          int t = striper.write(buf, off, buf.length - off);
          off += t;
          if (t == 0) {
            await();
          } else {
            progress.accept(striper.sent());
          }
          continue;
        }
        if (!eof) {
          buf = input.poll();
          off = 0;
          if (buf == null) {
            await();
          } else if (buf == EOF) {
            eof = true;
            buf = null;
            if (inputFailure != null) {
              throw new SessionException("cannot read the input: " + Failures.describe(inputFailure), inputFailure);
            }
          }
          continue;
        }
        striper.pump();
        if (striper.acknowledged() == striper.sent()) {
          break;
        }
        await();
      }
    } catch (SessionException e) {
      close();
      throw e;
    } catch (IOException e) {
      close();
      throw new SessionException("the transfer failed after " + striper.acknowledged() + " bytes: " + e.getMessage(), e);
    }
    finished = true;
    long sent = striper.sent();
    for (int i = sinks.size() - 1; i >= 0; i--) {
      QuicLane l = sinks.get(i);
      if (!l.dead) {
        StreamFin.shutdown(l.stream);
      }
    }
    long confirmed;
    try {
      confirmed = acks.count.get();
    } catch (ExecutionException e) {
      throw new SessionException("the transfer failed after " + sent + " bytes: " + e.getCause().getMessage());
    }
    if (confirmed != sent) {
      throw new SessionException("the receiver confirmed " + confirmed + " bytes, but " + sent + " were sent");
    }
    long[] bytes = new long[lanes.agreed()];
    for (QuicLane l : sinks) {
      bytes[l.lane] = l.bytes;
    }
    StripedReceiver.reportRates(reporter, bytes, System.nanoTime() - started);
    return sent;
  }

  /** --parallel auto changed the count: open lanes up to {@code count}, or retire those from it on. */
  private void laneCount(int count) {
    if (count > laneTarget) {
      lanes.open(count);
    }
    laneTarget = count;
    for (QuicLane l : sinks) {
      if (l.lane >= count && l.index >= 0) {
        striper.retire(l.index);
      }
    }
  }

  private int liveLanes() {
    int n = 0;
    for (QuicLane l : sinks) {
      n += l.dead ? 0 : 1;
    }
    return n;
  }

  /**
   * The input, read on a thread of its own into a short queue: the sender's thread never blocks on
   * it, so acknowledgements and lanes are taken while the input is slow.
   */
  private void readInput(InputStream in) {
    try {
      while (true) {
        byte[] b = new byte[CHUNK];
        int n = in.read(b);
        if (n < 0) {
          break;
        }
        if (n > 0) {
          input.put(n == b.length ? b : java.util.Arrays.copyOf(b, n));
          wake();
        }
      }
    } catch (IOException e) {
      inputFailure = e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    try {
      input.put(EOF);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    wake();
  }

  private void close() {
    finished = true;
    for (QuicLane l : sinks) {
      l.stream.close();
    }
  }

  /** A lane's stream is up: it joins the striper. Sender thread. */
  private void join(QuicLane sink) throws IOException {
    if (finished || !sink.stream.isActive()) {
      return;
    }
    sink.index = striper.addLane(sink);
    if (sink.lane >= growth.target()) {
      striper.retire(sink.index); // auto went back while this lane was opening
    }
    sinks.add(sink);
    reporter.event("lane-open", lanes.describe(sink.lane));
  }

  private void post(IoTask task) {
    events.add(() -> {
      try {
        task.run();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        }
      }
    });
  }

  @FunctionalInterface
  private interface IoTask {
    void run() throws IOException;
  }

  private void wake() {
    if (wakePosted.compareAndSet(false, true)) {
      events.add(() -> wakePosted.set(false));
    }
  }

  private void runEvents() throws IOException {
    Runnable r;
    while ((r = events.poll()) != null) {
      r.run();
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Waits for something to change: an acknowledgement, room on a lane, a lane up or gone. */
  private void await() throws IOException, InterruptedException {
    Runnable r = events.poll(LaneGrowth.PERIOD_NANOS, TimeUnit.NANOSECONDS);
    if (r != null) {
      r.run();
    }
    runEvents();
  }

  /** One lane's stream as the striper's sink: bounded by what waits for QUIC to take it. */
  private final class QuicLane implements LaneSink {
    final int lane;
    final AtomicLong waiting = new AtomicLong();
    final Watch watch = new Watch();
    volatile QuicStreamChannel stream;
    volatile boolean dead;
    /** The receiver's hello arrived: the lane may carry chunks (lane 0 needs none). */
    boolean hello;
    int index = -1;
    long bytes;

    QuicLane(int lane) {
      this.lane = lane;
    }

    @Override
    public int room() {
      return dead ? 0 : (int) Math.max(0, LANE_LIMIT - waiting.get());
    }

    @Override
    public void send(Chunk chunk) {
      int n = chunk.encodedLength();
      waiting.addAndGet(n);
      bytes += chunk.payload().length;
      ByteBuf b = stream.alloc().directBuffer(n);
      chunk.encode(b.nioBuffer(0, n));
      b.writerIndex(n);
      stream.writeAndFlush(b).addListener(f -> {
        waiting.addAndGet(-n);
        if (!f.isSuccess()) {
          gone("a write failed: " + f.cause().getMessage());
        }
        wake();
      });
    }

    void gone(String why) {
      if (dead) {
        return;
      }
      dead = true;
      post(() -> {
        if (lane == 0) {
          throw new IOException(why);
        }
        if (!finished && index >= 0) {
          striper.laneDied(index);
        }
      });
    }

    /** Reads the receiver's hello on a lane (8 bytes: its reorder bound); sees the lane's stream close. */
    final class Watch extends ChannelInboundHandlerAdapter {
      private final ByteBuf partial = Unpooled.buffer(8);

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf b = (ByteBuf) msg;
        try {
          if (hello) {
            return; // nothing more is expected on a lane
          }
          partial.writeBytes(b, Math.min(b.readableBytes(), partial.writableBytes()));
          if (partial.readableBytes() == 8) {
            hello = true;
            if (partial.getLong(0) < WINDOW) {
              ctx.close(); // the receiver could not hold our window out of order
              return;
            }
            stream = (QuicStreamChannel) ctx.channel();
            post(() -> join(QuicLane.this));
          }
        } finally {
          b.release();
        }
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        partial.release();
        if (!finished || lane == 0) {
          gone(lane == 0 ? acks.reason() : "its stream closed");
        }
        ctx.fireChannelInactive();
      }
    }
  }

  /** Lane 0's reverse direction: 8-byte delivered offsets; the last one before the receiver's FIN is its count. */
  private final class AckReader extends ChannelInboundHandlerAdapter {
    final CompletableFuture<Long> count = new CompletableFuture<>();
    private final ByteBuf partial = Unpooled.buffer(8);
    private long last = -1;
    private volatile String closeReason;

    String reason() {
      return closeReason != null ? closeReason : "the connection to the other side closed";
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      try {
        while (b.isReadable()) {
          partial.writeBytes(b, Math.min(b.readableBytes(), partial.writableBytes()));
          if (partial.readableBytes() == 8) {
            long v = partial.getLong(0);
            partial.clear();
            if (v < last) {
              closeReason = "the receiver's acknowledgement went backwards";
              ctx.close();
              return;
            }
            last = v;
            post(() -> striper.acknowledge(v));
          }
        }
      } finally {
        b.release();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownReadComplete) {
        if (last >= 0 && !partial.isReadable()) {
          count.complete(last);
        } else {
          closeReason = "the receiver ended the stream without confirming it";
          count.completeExceptionally(new IllegalStateException(closeReason));
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      count.completeExceptionally(new IllegalStateException(reason()));
      partial.release();
      wake();
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeReason = cause.getMessage();
      ctx.close();
    }
  }
}
