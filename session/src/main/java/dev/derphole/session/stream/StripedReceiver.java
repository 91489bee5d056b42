package dev.derphole.session.stream;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.DirectLanes;
import dev.derphole.session.Reporter;
import dev.derphole.session.SessionException;
import dev.derphole.transport.lanes.Chunk;
import dev.derphole.transport.lanes.LaneProtocolException;
import dev.derphole.transport.lanes.Reassembler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The receiving end of a byte stream striped over direct lanes ({@link StripedSender}): every
 * lane's stream carries chunk frames; a {@link Reassembler} puts them back in order and writes the
 * output, holding at most {@link #BOUND} bytes out of order. On lane 0's stream it answers the
 * delivered offset as it grows (8 bytes, big-endian, each), and when lane 0's FIN arrives (the
 * sender sends it only once everything is acknowledged) and the output is flushed, the total once
 * more with its own FIN: the last value before the FIN is the confirmation, as the one 8-byte
 * count is on a one-lane stream.
 *
 * <p>Memory: each lane's reader stops asking QUIC for more once {@link #LANE_HIGH} bytes of its
 * chunks wait for the reassembler (QUIC's flow control then stops that lane's sender), the
 * reassembler holds at most {@link #BOUND}, and one thread owns the reassembler and the output.
 */
public final class StripedReceiver implements DirectLanes.User {
  /** The most bytes held out of order; the sender's window is never larger ({@link StripedSender#WINDOW}). */
  public static final long BOUND = StripedSender.WINDOW;
  /** Lanes are numbered as the session numbers them (0..15), whichever of them come up. */
  static final int LANES = 16;
  static final int LANE_HIGH = 4 << 20;
  static final int LANE_LOW = 1 << 20;
  /** An acknowledgement at least every this many delivered bytes (and whenever the lanes fall idle). */
  static final long ACK_EVERY = 1 << 20;

  private sealed interface Item permits Piece, Fin, Gone {}

  private record Piece(int lane, Chunk chunk) implements Item {}

  private record Fin(int lane) implements Item {}

  private record Gone(int lane, String why) implements Item {}

  private final OutputStream out;
  private final Reporter reporter;
  private volatile DirectLanes lanes;
  private final int laneCount = LANES;
  private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
  private final LaneReader[] readers;
  private final Chunk[] held;
  private final ArrayDeque<Chunk>[] waiting;
  private final ArrayDeque<Integer> resumed = new ArrayDeque<>();
  private final Reassembler reassembler;
  private final long[] laneBytes;
  private final CompletableFuture<Long> done = new CompletableFuture<>();
  private volatile boolean finished;
  private long lastAck;
  private long started;

  @SuppressWarnings("unchecked")
  public StripedReceiver(OutputStream out, Reporter reporter) {
    this.out = new BufferedOutputStream(out, 256 << 10);
    this.reporter = reporter;
    this.readers = new LaneReader[laneCount];
    this.held = new Chunk[laneCount];
    this.waiting = new ArrayDeque[laneCount];
    for (int i = 0; i < laneCount; i++) {
      waiting[i] = new ArrayDeque<>();
    }
    this.laneBytes = new long[laneCount];
    this.reassembler = new Reassembler(laneCount, BOUND, this.out::write, resumed::add);
  }

  /** Completes with the byte count once everything is written and confirmed to the sender. */
  public CompletableFuture<Long> done() {
    return done;
  }

  /** The handler of lane 0's stream (the session's own connection); starts the output thread. */
  public ChannelHandler lane0(DirectLanes lanes) {
    this.lanes = lanes;
    Thread t = new Thread(this::run, "stream-lanes-output");
    t.setDaemon(true);
    t.start();
    return new LaneReader(0);
  }

  private String describe(int lane) {
    DirectLanes l = lanes;
    return l == null ? String.valueOf(lane) : l.describe(lane);
  }

  private String closeReason(int lane) {
    DirectLanes l = lanes;
    return l == null ? "its QUIC connection closed" : l.closeReason(lane);
  }

  /** We open the lane's stream and say hello on it (our reorder bound); the sender then uses it. */
  @Override
  public void connected(int lane, QuicChannel quic) {
    quic.createStream(io.netty.handler.codec.quic.QuicStreamType.BIDIRECTIONAL, new LaneReader(lane));
  }

  @Override
  public ChannelHandler streamHandler(int lane) {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.close(); // the sender opens no streams on a lane
      }
    };
  }

  private void run() {
    try {
      loop();
    } catch (LaneProtocolException e) {
      fail(new SessionException("the sender broke the lane protocol: " + e.getMessage(), e));
    } catch (SessionException e) {
      fail(e);
    } catch (IOException e) {
      fail(new SessionException("cannot write the output: " + Failures.describe(e), e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(new SessionException("interrupted"));
    }
  }

  private void loop() throws IOException, SessionException, InterruptedException {
    while (true) {
      Item it = queue.take();
      if (it instanceof Piece p) {
        take(p.lane(), p.chunk());
      } else if (it instanceof Fin f && f.lane() == 0) {
        finish();
        return;
      } else if (it instanceof Gone g) {
        if (g.lane() == 0) {
          throw new SessionException("the sender went away before the end of the stream ("
              + reassembler.delivered() + " bytes received)");
        } // another lane's end is reported by the lanes (lane-close); its chunks come again on others
      }
      if (reassembler.delivered() - lastAck >= ACK_EVERY || (queue.isEmpty() && reassembler.delivered() > lastAck)) {
        lastAck = reassembler.delivered();
        readers[0].answer(lastAck, false);
      }
    }
  }

  private void fail(SessionException e) {
    done.completeExceptionally(e);
    for (LaneReader r : readers) {
      if (r != null) {
        r.close();
      }
    }
  }

  /** One chunk from {@code lane}: offered now, or behind the one its lane holds while paused. */
  private void take(int lane, Chunk chunk) throws IOException {
    if (started == 0) {
      started = System.nanoTime();
    }
    if (held[lane] != null) {
      waiting[lane].add(chunk);
      return;
    }
    offer(lane, chunk);
    Integer r;
    while ((r = resumed.poll()) != null) {
      int l = r;
      Chunk c = held[l];
      held[l] = null;
      if (c != null && !offer(l, c)) {
        continue;
      }
      while ((c = waiting[l].poll()) != null) {
        if (!offer(l, c)) {
          break;
        }
      }
    }
  }

  /** Offers one chunk; false if its lane paused (the lane holds it). */
  private boolean offer(int lane, Chunk chunk) throws IOException {
    if (reassembler.offer(lane, chunk) == Reassembler.Offer.PAUSED) {
      held[lane] = chunk;
      return false;
    }
    laneBytes[lane] += chunk.payload().length;
    readers[lane].gate.taken(chunk.payload().length);
    return true;
  }

  private void finish() throws IOException {
    out.flush();
    long total = reassembler.delivered();
    finished = true;
    reportRates(reporter, laneBytes, System.nanoTime() - started);
    readers[0].answer(total, true).addListener(f -> {
      if (f.isSuccess()) {
        done.complete(total);
      } else {
        done.completeExceptionally(new SessionException("could not confirm the end of the stream to the sender"));
      }
    });
  }

  /** {@code lane-rate I BYTES bytes RATE Mbit/s} for each lane that carried data. */
  static void reportRates(Reporter reporter, long[] bytes, long nanos) {
    double seconds = Math.max(nanos, 1) / 1e9;
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] > 0) {
        reporter.event("lane-rate", i + " " + bytes[i] + " bytes " + String.format("%.1f", bytes[i] * 8 / seconds / 1e6) + " Mbit/s");
      }
    }
  }

  /** Reads one lane's stream: chunk frames, decoded on the lane's event loop, paced by its gate. */
  private final class LaneReader extends ChannelInboundHandlerAdapter {
    final int lane;
    final ByteBuf pending = Unpooled.buffer(Chunk.HEADER_LENGTH + Chunk.MAX_PAYLOAD);
    ReadGate gate;
    ChannelHandlerContext ctx;
    boolean ended;
    boolean active;

    LaneReader(int lane) {
      this.lane = lane;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
      this.gate = new ReadGate(LANE_HIGH, LANE_LOW, ctx::read);
      ctx.channel().config().setAutoRead(false);
      if (lane >= laneCount || readers[lane] != null) {
        ctx.close(); // one stream per lane
        return;
      }
      readers[lane] = this;
      if (ctx.channel().isActive()) {
        activate(ctx);
      }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      activate(ctx);
      ctx.fireChannelActive();
    }

    private void activate(ChannelHandlerContext ctx) {
      if (active) {
        return;
      }
      active = true;
      if (lane > 0) {
        ctx.writeAndFlush(Unpooled.buffer(8).writeLong(BOUND));
        reporter.event("lane-open", describe(lane));
      }
      ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      try {
        pending.writeBytes(b);
      } finally {
        b.release();
      }
      try {
        ByteBuffer view = pending.nioBuffer();
        Chunk c;
        while ((c = Chunk.decode(view)) != null) {
          gate.added(c.payload().length);
          queue.add(new Piece(lane, c));
        }
        pending.skipBytes(view.position());
        pending.discardSomeReadBytes();
      } catch (LaneProtocolException e) {
        fail(new SessionException("the sender broke the lane protocol: " + e.getMessage(), e));
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      gate.readOrPause();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownReadComplete && !ended) {
        ended = true;
        if (pending.isReadable()) {
          fail(new SessionException("the sender ended lane " + lane + " inside a chunk"));
        } else {
          queue.add(new Fin(lane));
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      pending.release();
      if (!ended && !finished) {
        queue.add(new Gone(lane, closeReason(lane)));
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }

    /** The delivered offset to the sender (lane 0 only); with FIN, the last word. */
    io.netty.channel.ChannelFuture answer(long delivered, boolean fin) {
      ByteBuf b = Unpooled.buffer(8).writeLong(delivered);
      return ctx.writeAndFlush(new DefaultQuicStreamFrame(b, fin));
    }

    void close() {
      ChannelHandlerContext c = ctx;
      if (c != null) {
        c.channel().close();
      }
    }
  }
}
