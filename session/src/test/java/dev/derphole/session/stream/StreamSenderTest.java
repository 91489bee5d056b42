package dev.derphole.session.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.CountingOutput;
import dev.derphole.session.LoopbackRelay;
import dev.derphole.session.Reporter;
import dev.derphole.session.SessionOptions;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The sending end of a stream, between a real issuer and claimant through a DERP server on loopback. */
class StreamSenderTest {
  @RegisterExtension final LoopbackRelay relay = LoopbackRelay.perTest();

  private SessionOptions options() {
    return relay.options(Reporter.SILENT, true, Duration.ofSeconds(5));
  }

  /**
   * The event loop is held up from the sender's first read on (as a busy or slow loop would be),
   * so no write can reach QUIC: the sender must stop after {@link PendingWrites#LIMIT} bytes instead
   * of handing over its whole input. Before, it went by the stream's writability, which stays true
   * until the loop has run the writes, and queued everything (a 1 GiB pipe ran out of direct memory).
   */
  @Test
  void aSenderWhoseWritesWaitStopsAtTheLimitAndFinishesOnceTheyAreTaken() throws Exception {
    long total = 32L << 20;
    CountingOutput arrived = new CountingOutput();
    StreamReceiver receiver = new StreamReceiver(arrived);
    try (IssuedSession listen = IssuedSession.open(Capability.STREAM, options(), firstStream(receiver));
         ClaimedSession pipe = ClaimedSession.claim(Token.decodeFor(listen.token().encode(), Capability.STREAM,
             Instant.now()), options(), null)) {
      listen.awaitConnection();
      QuicChannel quic = pipe.connection();
      CountDownLatch loopHeld = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      HeldInput input = new HeldInput(total, () -> quic.eventLoop().execute(() -> {
        loopHeld.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
      AtomicReference<Thread> senderThread = new AtomicReference<>();
      CompletableFuture<Long> sent = CompletableFuture.supplyAsync(() -> {
        senderThread.set(Thread.currentThread());
        try {
          return StreamSender.send(quic, input, n -> { });
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      try {
        assertThat(loopHeld.await(30, TimeUnit.SECONDS)).isTrue();
        // The sender either waits for room (bounded) or, having handed over everything, for its last write.
        Thread.State state;
        while ((state = senderThread.get().getState()) != Thread.State.WAITING && state != Thread.State.TIMED_WAITING
            && !sent.isDone()) {
          Thread.onSpinWait();
        }
        assertThat(input.read.get()).as("bytes read while QUIC could take none")
            .isLessThanOrEqualTo(PendingWrites.LIMIT + StreamSender.CHUNK);
      } finally {
        release.countDown();
      }
      assertThat(sent.get(60, TimeUnit.SECONDS)).isEqualTo(total);
      assertThat(receiver.done().get(60, TimeUnit.SECONDS)).isEqualTo(total);
      assertThat(arrived.count()).isEqualTo(total);
    }
  }

  /** {@code total} bytes; runs {@code onFirstRead} when the sender first asks for data. */
  private static final class HeldInput extends InputStream {
    final AtomicLong read = new AtomicLong();
    private final Runnable onFirstRead;
    private long remaining;
    private boolean first = true;

    HeldInput(long total, Runnable onFirstRead) {
      this.remaining = total;
      this.onFirstRead = onFirstRead;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (first) {
        first = false;
        onFirstRead.run();
      }
      if (remaining == 0) {
        return -1;
      }
      int n = (int) Math.min(len, remaining);
      java.util.Arrays.fill(b, off, off + n, (byte) 'x');
      remaining -= n;
      read.addAndGet(n);
      return n;
    }
  }

  private static ChannelInitializer<QuicStreamChannel> firstStream(StreamReceiver receiver) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        ch.pipeline().addLast(receiver);
      }
    };
  }
}
