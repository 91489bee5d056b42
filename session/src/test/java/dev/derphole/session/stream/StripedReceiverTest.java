package dev.derphole.session.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.derphole.session.Reporter;
import dev.derphole.transport.lanes.Chunk;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.quic.QuicStreamFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link StripedReceiver}'s lane 0 on an {@link EmbeddedChannel}: its read bound, acknowledgements and the end, a hostile frame. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class StripedReceiverTest {
  private static final int CHUNK = 64 << 10;
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private final CountDownLatch outputOpen = new CountDownLatch(1);
  private final ByteArrayOutputStream written = new ByteArrayOutputStream();
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

  private static byte[] payload(int i) {
    byte[] p = new byte[CHUNK];
    java.util.Arrays.fill(p, (byte) i);
    return p;
  }

  private StripedReceiver lane0() {
    StripedReceiver r = new StripedReceiver(slowOutput, Reporter.SILENT);
    channel = new EmbeddedChannel(counter, r.lane0(null));
    return r;
  }

  @Test
  void aLaneIsNotReadFurtherOnceItsBoundWaitsForTheOutputAndIsOnceTheOutputTakesIt() {
    lane0();
    int chunks = 3 * StripedReceiver.LANE_HIGH / CHUNK;
    for (int i = 0; i < chunks; i++) {
      channel.writeInbound(Unpooled.wrappedBuffer(new Chunk((long) i * CHUNK, false, payload(i)).encode()));
    }
    channel.runPendingTasks();
    // The output takes nothing, so all but what its buffer and one blocked write took still waits.
    assertThat(counter.reads.get()).as("reads while %d chunks wait", chunks)
        .isLessThan(StripedReceiver.LANE_HIGH / CHUNK + 8);
    int paused = counter.reads.get();
    outputOpen.countDown();
    await().atMost(PATIENCE).untilAsserted(() -> {
      channel.runPendingTasks();
      assertThat(counter.reads.get()).isGreaterThan(paused);
    });
    await().atMost(PATIENCE).until(() -> {
      synchronized (slowOutput) {
        return written.size() >= (chunks - 4) * CHUNK;
      }
    });
    synchronized (slowOutput) {
      byte[] out = written.toByteArray();
      for (int i = 0; i < out.length / CHUNK; i++) {
        assertThat(out[i * CHUNK]).as("chunk %d in order", i).isEqualTo((byte) i);
      }
    }
  }

  @Test
  void acknowledgesWhatItDeliveredAndAnswersTheTotalWithItsFinAfterTheSendersFin() throws Exception {
    outputOpen.countDown();
    StripedReceiver r = lane0();
    // Out of order on one lane is refused only for fresh chunks; here: the second piece first, resent.
    channel.writeInbound(Unpooled.wrappedBuffer(new Chunk(5, true, "world".getBytes()).encode()));
    channel.writeInbound(Unpooled.wrappedBuffer(new Chunk(0, false, "hello".getBytes()).encode()));
    channel.pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
    long last = -1;
    boolean fin = false;
    while (!fin) {
      QuicStreamFrame f = await().atMost(PATIENCE).until(() -> {
        channel.runPendingTasks();
        return channel.<QuicStreamFrame>readOutbound();
      }, x -> x != null);
      long v = f.content().readLong();
      assertThat(v).as("acknowledgements never go backwards").isGreaterThanOrEqualTo(last);
      last = v;
      fin = f.hasFin();
      f.release();
    }
    assertThat(last).isEqualTo(10);
    assertThat(written.toString()).isEqualTo("helloworld");
    assertThat(r.done().get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo(10);
  }

  @Test
  void aFrameNoHonestSenderWritesEndsTheTransfer() {
    outputOpen.countDown();
    StripedReceiver r = lane0();
    byte[] bad = new Chunk(0, false, new byte[1]).encode();
    bad[12] = 0; // length 0
    channel.writeInbound(Unpooled.wrappedBuffer(bad));
    channel.runPendingTasks();
    assertThat(r.done()).failsWithin(PATIENCE).withThrowableThat().withMessageContaining("broke the lane protocol");
  }
}
