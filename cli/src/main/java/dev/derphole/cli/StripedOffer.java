package dev.derphole.cli;

import dev.derphole.session.SessionException;
import dev.derphole.session.SessionSide;
import dev.derphole.session.stream.StripedReceiver;
import dev.derphole.session.stream.StripedSender;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * send/receive over direct lanes (issue #34). The offer header and the receiver's first answer
 * (accept, refuse or what it holds to resume from) cross on the offer stream as on one lane; when
 * the session agreed on more than one lane, what the sender writes after that answer (the resume
 * start, the body, the SHA-256) goes through {@link StripedSender} on a second stream of lane 0 and
 * the lanes, and comes out of {@link StripedReceiver} on the other side; the receiver's later
 * answers stay on the offer stream. With one lane agreed nothing changes on the wire.
 */
final class StripedOffer {
  private StripedOffer() {}

  /** A bounded in-memory pipe between two threads; either end may fail it, which the other then sees. */
  static final class Pipe {
    /** Writes held at most; each at most one write's length (the writers' buffers: 256 KiB). */
    static final int SLOTS = 16;
    private static final byte[] EOF = new byte[0];
    private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(SLOTS);
    private volatile IOException failure;
    private byte[] current = EOF;
    private int pos;
    private boolean ended;

    /** Every slot taken: the next write waits for the reader (or a failure). */
    boolean full() {
      return queue.remainingCapacity() == 0;
    }

    void fail(String why) {
      if (failure == null) {
        failure = new IOException(why);
      }
      queue.clear();
      queue.offer(EOF);
    }

    private void put(byte[] b) throws IOException {
      try {
        while (!queue.offer(b, 100, TimeUnit.MILLISECONDS)) {
          if (failure != null) {
            throw failure;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException();
      }
      if (failure != null) {
        throw failure;
      }
    }

    final OutputStream out = new OutputStream() {
      private boolean closed;

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (len > 0) {
          put(Arrays.copyOfRange(b, off, off + len));
        }
      }

      @Override
      public void close() throws IOException {
        if (!closed) {
          closed = true;
          put(EOF);
        }
      }
    };

    final InputStream in = new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        while (pos == current.length) {
          if (ended) {
            return -1;
          }
          try {
            current = queue.take();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException();
          }
          pos = 0;
          if (failure != null) {
            throw failure;
          }
          if (current == EOF) {
            ended = true;
          }
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
      }
    };
  }

  /** The sending side: what {@code OfferSender} writes after the answer, striped; {@link #finish} waits for it. */
  static final class Sending {
    private final SessionSide session;
    private final QuicChannel quic;
    private final ParallelOption parallel;
    private final Pipe pipe = new Pipe();
    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private boolean started;
    private final java.util.List<QuicChannel> lanesQuic = new java.util.concurrent.CopyOnWriteArrayList<>();

    Sending(SessionSide session, QuicChannel quic, ParallelOption parallel) {
      this.session = session;
      this.quic = quic;
      this.parallel = parallel;
    }

    /** For {@code OfferSender.send}: the offer stream itself on one lane, else the striped stream. */
    UnaryOperator<OutputStream> afterAnswer() {
      return toReceiver -> {
        if (session.lanes().agreed() <= 1) {
          session.reporter().event("lanes", parallel.describe(1));
          return toReceiver;
        }
        started = true;
        Thread t = new Thread(() -> {
          try {
            done.complete(StripedSender.send(quic, session.lanes(), pipe.in, session.reporter(), parallel.lanes(),
                parallel.mode(), n -> { }, this::useLanes));
          } catch (SessionException e) {
            pipe.fail(e.getMessage());
            done.completeExceptionally(e);
          } catch (InterruptedException e) {
            pipe.fail("interrupted");
            done.completeExceptionally(e);
          }
        }, "send-lanes");
        t.setDaemon(true);
        t.start();
        return pipe.out;
      };
    }

    /** The lanes' QUIC connections as they come up, for {@link #lanesQuic}; the rest as the striping wants. */
    private void useLanes(dev.derphole.session.DirectLanes.User user) {
      session.useLanes(new dev.derphole.session.DirectLanes.User() {
        @Override
        public void connected(int lane, QuicChannel quic) {
          lanesQuic.add(quic);
          user.connected(lane, quic);
        }

        @Override
        public ChannelHandler streamHandler(int lane) {
          return user.streamHandler(lane);
        }
      });
    }

    /** The QUIC connections of the lanes beyond lane 0 that came up. */
    java.util.List<QuicChannel> lanesQuic() {
      return java.util.List.copyOf(lanesQuic);
    }

    /** The transfer failed on this side: the striping stops reading. */
    void abandon(String why) {
      pipe.fail(why);
    }

    /** Once the receiver confirmed: waits for the lanes' last acknowledgement, so their rates are reported. */
    void finish() throws SessionException, InterruptedException {
      if (!started) {
        return;
      }
      try {
        done.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        // the receiver confirmed everything, verified, on the offer stream: the lanes' own ending does not matter
      }
    }
  }

  /** The receiving side: the offer stream first, then (lanes agreed) the striped stream. */
  static final class Receiving {
    private final Pipe pipe = new Pipe();
    final StripedReceiver striped;
    final AtomicReference<SessionSide> session = new AtomicReference<>();
    private volatile boolean switched;

    Receiving(dev.derphole.session.Reporter reporter) {
      this.striped = new StripedReceiver(pipe.out, reporter);
      striped.done().whenComplete((n, e) -> {
        if (e != null) {
          pipe.fail(e instanceof java.util.concurrent.CompletionException && e.getCause() != null
              ? e.getCause().getMessage() : e.getMessage());
        } else {
          try {
            pipe.out.close();
          } catch (IOException ignored) {
            // the reader failed already
          }
        }
      });
    }

    /** The stream handler: the first stream is the offer stream ({@code port}), the second lane 0's striped one. */
    ChannelHandler streams(ChannelHandler port) {
      return new ChannelInitializer<QuicStreamChannel>() {
        private int seen;

        @Override
        protected void initChannel(QuicStreamChannel ch) {
          int n = seen++;
          SessionSide s = session.get();
          if (n == 0) {
            ch.pipeline().addLast(port);
          } else if (n == 1 && s != null && s.lanes().agreed() > 1) {
            ch.pipeline().addLast(striped.lane0(s.lanes()));
          } else {
            ch.close();
          }
        }
      };
    }

    /** The sender's bytes: the offer stream until this side's first answer, then (lanes agreed) the striped ones. */
    InputStream fromSender(InputStream offerStream) {
      return new InputStream() {
        private InputStream current() {
          return switched ? pipe.in : offerStream;
        }

        @Override
        public int read() throws IOException {
          return current().read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          return current().read(b, off, len);
        }
      };
    }

    /** This side's answers: the first one switches {@link #fromSender} to the lanes when they were agreed. */
    OutputStream toSender(OutputStream offerStream) {
      return new java.io.FilterOutputStream(offerStream) {
        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          switchOnce();
          out.write(b, off, len);
        }

        @Override
        public void write(int b) throws IOException {
          switchOnce();
          out.write(b);
        }
      };
    }

    private void switchOnce() {
      SessionSide s = session.get();
      if (!switched && s != null && s.lanes().agreed() > 1) {
        switched = true;
      }
    }

    /** After the confirmation: a moment for the lanes' last word, so their rates are reported. */
    void finish() throws InterruptedException {
      if (!switched) {
        return;
      }
      try {
        striped.done().get(10, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        // everything arrived, verified, on the offer stream's terms
      }
    }
  }
}
