package dev.derphole.session.stream;

import dev.derphole.session.SessionException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The receiving end of a byte stream: writes the QUIC stream to an {@link OutputStream} (stdout)
 * with backpressure all the way back to the sender, and when the sender's FIN has arrived and
 * everything is flushed, answers with the byte count (8 bytes, big-endian) and its own FIN.
 *
 * <p>The stream does not read ahead: once {@link #HIGH_WATER} bytes wait for the output, it stops
 * asking QUIC for more, QUIC's flow control stops the sender, and memory stays flat however long
 * the stream is. A blocking output never blocks the event loop: a writer thread owns it.
 */
public final class StreamReceiver extends ChannelInboundHandlerAdapter {
  static final int HIGH_WATER = 8 << 20;
  static final int LOW_WATER = 2 << 20;
  private static final ByteBuf EOF = Unpooled.EMPTY_BUFFER;

  private final OutputStream out;
  private final BlockingQueue<ByteBuf> queue = new LinkedBlockingQueue<>();
  private final AtomicLong queued = new AtomicLong();
  private final CompletableFuture<Long> done = new CompletableFuture<>();
  private volatile boolean paused;
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
    queued.addAndGet(b.readableBytes());
    queue.add(b);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (queued.get() < HIGH_WATER) {
      ctx.read();
    } else {
      paused = true;
      if (queued.get() < LOW_WATER && paused) { // the writer drained meanwhile
        paused = false;
        ctx.read();
      }
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownReadComplete) {
      eof = true;
      queue.add(EOF);
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!eof) {
      done.completeExceptionally(new SessionException(
          "the sender went away before the end of the stream (" + received + " bytes received)"));
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
    long written = 0;
    try {
      while (true) {
        ByteBuf b = queue.take();
        if (b == EOF) {
          break;
        }
        int n = b.readableBytes();
        try {
          b.getBytes(b.readerIndex(), out, n);
        } finally {
          b.release();
        }
        written += n;
        if (queued.addAndGet(-n) < LOW_WATER && paused) {
          paused = false;
          ctx.executor().execute(ctx::read);
        }
      }
      out.flush();
      if (done.isDone()) {
        return; // the sender vanished; nothing to acknowledge
      }
      long total = written;
      ByteBuf ack = Unpooled.buffer(8).writeLong(total);
      // Deferred onto the event loop, never written from inside the input-shutdown event.
      ctx.executor().execute(() -> ctx.writeAndFlush(ack).addListener(f -> {
        if (f.isSuccess()) {
          ((QuicStreamChannel) ctx.channel()).shutdownOutput();
          done.complete(total);
        } else {
          done.completeExceptionally(new SessionException("could not confirm the end of the stream to the sender"));
        }
      }));
    } catch (IOException e) {
      done.completeExceptionally(new SessionException("cannot write the output: " + e.getMessage(), e));
      ctx.executor().execute(() -> ctx.channel().close());
      drain();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      drain();
    }
  }

  private void drain() {
    ByteBuf b;
    while ((b = queue.poll()) != null) {
      b.release();
    }
  }
}
