package dev.derphole.session.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.derphole.session.SessionException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.QuicStreamFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link StreamReceiver} on an {@link EmbeddedChannel}: backpressure, the end of the stream, a sender gone. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class StreamReceiverTest {
  private static final int MIB = 1 << 20;
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private final CountDownLatch outputOpen = new CountDownLatch(1);
  private final ByteArrayOutputStream written = new ByteArrayOutputStream();
  /** An output (stdout of a slow consumer) that takes nothing until {@link #outputOpen} opens. */
  private final OutputStream slowOutput = new OutputStream() {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      try {
        outputOpen.await();
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
      written.write(b, off, len);
    }
  };
  private final ReadCounter counter = new ReadCounter();
  private EmbeddedChannel channel;

  @AfterEach
  void close() {
    outputOpen.countDown();
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
  }

  @Test
  void stopsAskingForMoreOnceTheOutputFallsBehindAndAsksAgainOnceItCatchesUp() {
    StreamReceiver receiver = new StreamReceiver(slowOutput);
    channel = new EmbeddedChannel(counter, receiver);
    assertThat(counter.reads).as("the first read, when the stream becomes active").hasValue(1);
    int chunks = StreamReceiver.HIGH_WATER / MIB;
    for (int i = 1; i < chunks; i++) {
      channel.writeInbound(chunk(i));
      assertThat(counter.reads).as("reads while %d MiB wait", i).hasValue(1 + i);
    }
    channel.writeInbound(chunk(chunks));
    channel.runPendingTasks();
    assertThat(counter.reads).as("no read once %d MiB wait for the output", chunks).hasValue(chunks);

    outputOpen.countDown();
    await().atMost(PATIENCE).untilAsserted(() -> assertThat(counter.reads).hasValue(chunks + 1));
    await().atMost(PATIENCE).until(() -> written.size() == chunks * MIB);
    byte[] out = written.toByteArray();
    for (int i = 1; i <= chunks; i++) {
      assertThat(out[(i - 1) * MIB]).as("chunk %d in order", i).isEqualTo((byte) i);
    }
  }

  @Test
  void afterTheSendersFinAndTheLastWriteTheCountGoesBackWithOurFin() throws Exception {
    outputOpen.countDown();
    StreamReceiver receiver = new StreamReceiver(slowOutput);
    channel = new EmbeddedChannel(counter, receiver);
    channel.writeInbound(Unpooled.wrappedBuffer("hello, ".getBytes()), Unpooled.wrappedBuffer("world".getBytes()));
    channel.pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);

    QuicStreamFrame ack = await().atMost(PATIENCE).until(() -> {
      channel.runPendingTasks();
      return channel.<QuicStreamFrame>readOutbound();
    }, f -> f != null);
    assertThat(written.toString()).isEqualTo("hello, world");
    assertThat(ack.hasFin()).as("the count carries our FIN").isTrue();
    assertThat(ack.content().readLong()).isEqualTo(12);
    ack.release();
    assertThat(receiver.done().get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo(12);
  }

  @Test
  void aStreamThatClosesWithoutFinFailsAndIsNotAcknowledged() {
    outputOpen.countDown();
    StreamReceiver receiver = new StreamReceiver(slowOutput);
    channel = new EmbeddedChannel(counter, receiver);
    channel.writeInbound(Unpooled.wrappedBuffer(new byte[100]));
    channel.close();
    channel.runPendingTasks();

    assertThat(receiver.done()).failsWithin(PATIENCE)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOf(SessionException.class)
        .withMessage("the sender went away before the end of the stream (100 bytes received)");
    await().atMost(PATIENCE).until(() -> written.size() == 100);
    channel.runPendingTasks();
    assertThat((Object) channel.readOutbound()).as("no acknowledgement").isNull();
  }

  private static ByteBuf chunk(int fill) {
    byte[] b = new byte[MIB];
    java.util.Arrays.fill(b, (byte) fill);
    return Unpooled.wrappedBuffer(b);
  }
}
