package dev.derphole.session.stream;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.SessionException;
import dev.derphole.transport.quic.StreamFin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;

/**
 * The sending end of a byte stream: copies an {@link InputStream} (stdin) into one QUIC stream,
 * keeping up to {@link PendingWrites#LIMIT} bytes queued for QUIC to take (so memory is flat and
 * QUIC never waits for this thread), then half-closes and waits for the receiver's byte count. It
 * returns only when the receiver has confirmed it has everything.
 */
public final class StreamSender {
  static final int CHUNK = 64 << 10;

  private StreamSender() {}

  public static long send(QuicChannel quic, InputStream in, LongConsumer progress) throws SessionException, InterruptedException {
    AckReader ack = new AckReader();
    QuicStreamChannel stream;
    try {
      stream = quic.createStream(QuicStreamType.BIDIRECTIONAL, ack).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new SessionException("could not open a stream to the other side: " + e.getMessage(), e);
    }
    long sent = 0;
    ChannelFuture last = null;
    byte[] buf = new byte[CHUNK];
    // Every write must succeed: a failed write would be a hole in the stream, so count them.
    java.util.concurrent.atomic.AtomicLong failedBytes = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    while (true) {
      int n;
      try {
        n = in.read(buf);
      } catch (IOException e) {
        stream.close();
        throw new SessionException("cannot read the input: " + Failures.describe(e), e);
      }
      if (n < 0) {
        break;
      }
      if (n == 0) {
        continue;
      }
      ack.pending.acquire(n);
      if (!stream.isActive()) {
        throw ack.failure(sent);
      }
      int size = n;
      // Direct, as QUIC wants it (a heap buffer would be copied once more on the event loop).
      last = stream.writeAndFlush(stream.alloc().directBuffer(n).writeBytes(buf, 0, n));
      last.addListener(f -> {
        ack.pending.release(size);
        if (!f.isSuccess()) {
          failedBytes.addAndGet(size);
          failure.compareAndSet(null, f.cause());
        }
      });
      sent += n;
      progress.accept(sent);
    }
    // Half-close only once every write has been taken by QUIC, and as a task of its own on the
    // event loop: a FIN issued from inside the last write's completion could still cut data (seen
    // once in a 10 GiB run: 1.5 MiB short, caught by the byte count). Write futures complete in
    // order on the event loop, so when the last one is done every earlier listener has run.
    if (last != null) {
      last.awaitUninterruptibly();
      if (!last.isSuccess()) {
        failure.compareAndSet(null, last.cause());
        failedBytes.compareAndSet(0, 1);
      }
    }
    if (failedBytes.get() > 0) {
      stream.close();
      Throwable c = failure.get();
      throw new SessionException("the transfer failed: " + failedBytes.get() + " bytes could not be written to the stream ("
          + (c == null ? "unknown" : c.getClass().getSimpleName() + ": " + c.getMessage()) + ")");
    }
    StreamFin.shutdown(stream);
    long confirmed;
    try {
      confirmed = ack.count.get();
    } catch (ExecutionException e) {
      throw ack.failure(sent);
    }
    if (confirmed != sent) {
      throw new SessionException("the receiver confirmed " + confirmed + " bytes, but " + sent + " were sent");
    }
    return sent;
  }

  /** Reads the receiver's 8-byte count; bounds what waits for QUIC to take it. */
  private static final class AckReader extends ChannelInboundHandlerAdapter {
    final CompletableFuture<Long> count = new CompletableFuture<>();
    final PendingWrites pending = new PendingWrites();
    private final ByteBuf answer = Unpooled.buffer(8);
    private volatile String closeReason;

    SessionException failure(long sent) {
      String why = closeReason != null ? closeReason : "the stream closed";
      return new SessionException("the transfer failed after " + sent + " bytes: " + why);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      try {
        answer.writeBytes(b, Math.min(b.readableBytes(), answer.writableBytes()));
      } finally {
        b.release();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownReadComplete) {
        if (answer.readableBytes() == 8) {
          count.complete(answer.getLong(0));
        } else {
          closeReason = "the receiver ended the stream without confirming it";
          count.completeExceptionally(new IllegalStateException(closeReason));
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (closeReason == null) {
        closeReason = "the connection to the other side closed";
      }
      count.completeExceptionally(new IllegalStateException(closeReason));
      pending.close();
      answer.release();
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeReason = cause.getMessage();
      ctx.close();
    }
  }
}
