package dev.derphole.session.stream;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.SessionException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The receiving end of a byte stream: writes the QUIC stream to an {@link OutputStream} (stdout)
 * with backpressure all the way back to the sender, and when the sender's FIN has arrived and
 * everything is flushed, answers with the byte count (8 bytes, big-endian) and its own FIN.
 *
 * <p>The stream does not read ahead: a {@link ReadGate} stops asking QUIC for more once
 * {@link #HIGH_WATER} bytes wait for the output, QUIC's flow control stops the sender, and memory
 * stays flat however long the stream is. A blocking output never blocks the event loop: a writer
 * thread owns it.
 *
 * <p>QUIC delivers the stream one packet at a time (about 1.3 KB per read). Handing each read to the
 * writer thread would cost a thread wake-up and an output write per packet, so the event loop hands
 * over what it read once per turn of the loop, and the writer gathers it into writes of up to
 * {@link #WRITE_SIZE} (measured: docs/benchmarks.md, "listen / pipe, and the QUIC ceiling").
 */
public final class StreamReceiver extends ChannelInboundHandlerAdapter {
  static final int HIGH_WATER = 8 << 20;
  static final int LOW_WATER = 2 << 20;
  /** The largest single write to the output. */
  static final int WRITE_SIZE = 256 << 10;
  /** Marks the end of the stream in the queue (compared by identity). */
  private static final List<ByteBuf> EOF = new ArrayList<>(0);

  private final OutputStream out;
  /** Batches of reads, one per event-loop turn, in stream order; then {@link #EOF}. */
  private final BlockingQueue<List<ByteBuf>> queue = new LinkedBlockingQueue<>();
  /** What the event loop read in this turn (event loop only). */
  private List<ByteBuf> batch = new ArrayList<>();
  private boolean handOverScheduled;
  private volatile boolean outputFailed;
  /** The writer thread's: bytes gathered for the next output write, and the total written. */
  private final byte[] gathered = new byte[WRITE_SIZE];
  private int gatheredLength;
  private long written;
  private final ReadGate gate = new ReadGate(HIGH_WATER, LOW_WATER, () -> this.ctx.read());
  private final CompletableFuture<Long> done = new CompletableFuture<>();
  private volatile boolean eof;
  private ChannelHandlerContext ctx;
  private long received;

  public StreamReceiver(OutputStream out) {
    this.out = out;
  }

  /** Completes with the byte count once everything is written and acknowledged to the sender. */
  public CompletableFuture<Long> done() {
    return done;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    ctx.channel().config().setAutoRead(false);
    Thread writer = new Thread(this::writeLoop, "stream-output");
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.read();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf b = (ByteBuf) msg;
    received += b.readableBytes();
    gate.added(b.readableBytes());
    batch.add(b);
    if (!handOverScheduled) {
      handOverScheduled = true;
      ctx.executor().execute(this::handOver); // runs once this turn's reads are done
    }
  }

  /** Gives the writer thread everything read since the last hand-over, as one batch. */
  private void handOver() {
    handOverScheduled = false;
    if (batch.isEmpty()) {
      return;
    }
    if (outputFailed) {
      batch.forEach(ByteBuf::release);
      batch.clear();
      return;
    }
    queue.add(batch);
    batch = new ArrayList<>();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    gate.readOrPause();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownReadComplete) {
      eof = true;
      handOver();
      queue.add(EOF);
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!eof) {
      done.completeExceptionally(new SessionException(
          "the sender went away before the end of the stream (" + received + " bytes received)"));
      handOver();
      queue.add(EOF);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    done.completeExceptionally(new SessionException("stream failed: " + cause.getMessage(), cause));
    ctx.close();
  }

  private void writeLoop() {
    try {
      boolean end = false;
      while (!end) {
        // Everything the event loop has handed over so far, gathered into as few writes as can be.
        List<ByteBuf> next = queue.take();
        do {
          if (next == EOF) {
            end = true;
            break;
          }
          gather(next);
        } while ((next = queue.poll()) != null);
        writeGathered();
      }
      out.flush();
      if (done.isDone()) {
        return; // the sender vanished; nothing to acknowledge
      }
      long total = written;
      ByteBuf ack = Unpooled.buffer(8).writeLong(total);
      // Deferred onto the event loop, never written from inside the input-shutdown event.
      // The FIN rides on the acknowledgement: a FIN on its own, after the sender's FIN was read,
      // can be dropped by quiche (see StreamFin).
      ctx.executor().execute(() -> ctx.writeAndFlush(new DefaultQuicStreamFrame(ack, true)).addListener(f -> {
        if (f.isSuccess()) {
          done.complete(total);
        } else {
          done.completeExceptionally(new SessionException("could not confirm the end of the stream to the sender"));
        }
      }));
    } catch (IOException e) {
      outputFailed = true;
      done.completeExceptionally(new SessionException("cannot write the output: " + Failures.describe(e), e));
      ctx.executor().execute(() -> ctx.channel().close());
      drain();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      drain();
    }
  }

  /** Copies one batch into {@link #gathered}, writing it out whenever it is full; releases the batch. */
  private void gather(List<ByteBuf> reads) throws IOException {
    int i = 0;
    try {
      for (; i < reads.size(); i++) {
        ByteBuf b = reads.get(i);
        while (b.isReadable()) {
          int n = Math.min(b.readableBytes(), gathered.length - gatheredLength);
          b.readBytes(gathered, gatheredLength, n);
          gatheredLength += n;
          if (gatheredLength == gathered.length) {
            writeGathered();
          }
        }
        b.release();
      }
    } finally {
      for (; i < reads.size(); i++) {
        reads.get(i).release(); // only after a failed write
      }
    }
  }

  /** Writes what is gathered and lets the stream read again once the backlog is low. */
  private void writeGathered() throws IOException {
    int n = gatheredLength;
    if (n == 0) {
      return;
    }
    out.write(gathered, 0, n);
    gatheredLength = 0;
    written += n;
    gate.taken(n);
  }

  private void drain() {
    List<ByteBuf> b;
    while ((b = queue.poll()) != null) {
      b.forEach(ByteBuf::release);
    }
  }
}
