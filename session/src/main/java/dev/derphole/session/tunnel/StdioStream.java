package dev.derphole.session.tunnel;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.SessionException;
import dev.derphole.session.share.StreamHeader;
import dev.derphole.transport.quic.StreamFin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code derptun connect --stdio}: one forwarded connection whose client end is this process's
 * stdin and stdout (SSH's ProxyCommand). The stream starts with the {@link StreamHeader} like any
 * forwarded connection, so {@code serve} treats it as one more TCP client. stdin's end becomes a
 * FIN; the run ends when the server side has closed its half and everything is on stdout.
 */
public final class StdioStream {
  static final int CHUNK = 64 << 10;

  private StdioStream() {}

  /**
   * Runs until the far side closes.
   *
   * @throws SessionException the stream broke (the tunnel dropped for longer than QUIC waits)
   */
  public static void run(QuicChannel quic, InputStream in, OutputStream out) throws SessionException, InterruptedException {
    Sink sink = new Sink(out);
    QuicStreamChannel stream;
    try {
      stream = quic.createStream(QuicStreamType.BIDIRECTIONAL, sink).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new SessionException("could not open a stream through the tunnel: " + e.getMessage(), e);
    }
    stream.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1 << 20, 4 << 20));
    stream.writeAndFlush(StreamHeader.encode(Unpooled.buffer(StreamHeader.LENGTH)));
    Thread pump = new Thread(() -> pump(in, stream, sink), "derptun-stdin");
    pump.setDaemon(true);
    pump.start();
    try {
      sink.done.get();
    } catch (ExecutionException e) {
      throw new SessionException(e.getCause().getMessage(), e.getCause());
    }
  }

  /** stdin → stream, waiting for QUIC's flow control; FIN once every write was taken. */
  private static void pump(InputStream in, QuicStreamChannel stream, Sink sink) {
    byte[] buf = new byte[CHUNK];
    ChannelFuture last = null;
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        if (n == 0) {
          continue;
        }
        sink.awaitWritable(stream);
        if (!stream.isActive()) {
          return;
        }
        last = stream.writeAndFlush(Unpooled.copiedBuffer(buf, 0, n));
      }
    } catch (IOException | InterruptedException e) {
      // stdin failed or we are exiting: end our half like at EOF
    }
    if (last != null) {
      last.awaitUninterruptibly();
    }
    StreamFin.shutdown(stream);
  }

  /** stream → stdout; completes {@link #done} at the far side's FIN, fails it if the stream dies first. */
  private static final class Sink extends ChannelInboundHandlerAdapter {
    final CompletableFuture<Void> done = new CompletableFuture<>();
    private final OutputStream out;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition writable = lock.newCondition();

    Sink(OutputStream out) {
      this.out = out;
    }

    void awaitWritable(QuicStreamChannel stream) throws InterruptedException {
      lock.lock();
      try {
        while (stream.isActive() && !stream.isWritable()) {
          writable.await(1, TimeUnit.SECONDS);
        }
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      lock.lock();
      try {
        writable.signalAll();
      } finally {
        lock.unlock();
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      try {
        b.readBytes(out, b.readableBytes());
      } catch (IOException e) {
        done.completeExceptionally(new SessionException("cannot write to stdout: " + Failures.describe(e)));
        ctx.close();
      } finally {
        b.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      try {
        out.flush();
      } catch (IOException e) {
        done.completeExceptionally(new SessionException("cannot write to stdout: " + Failures.describe(e)));
        ctx.close();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownReadComplete) {
        try {
          out.flush();
        } catch (IOException ignored) {
          // the reader is gone; nothing left to deliver
        }
        done.complete(null);
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      done.completeExceptionally(new SessionException("the connection through the tunnel broke"));
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      done.completeExceptionally(new SessionException("the connection through the tunnel broke: " + cause.getMessage()));
      ctx.close();
    }
  }
}
