package dev.derphole.session.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The reading side of {@link StreamPort} on an {@link EmbeddedChannel}: backpressure, FIN, a stream cut off. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class StreamPortTest {
  private static final int MIB = 1 << 20;

  private final ReadCounter counter = new ReadCounter();
  private final StreamPort port = new StreamPort();
  private final EmbeddedChannel channel = new EmbeddedChannel(counter, port);

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  @Test
  void stopsAskingForMoreWhileTheReaderLagsAndAsksAgainOnceItHasReadTheBacklogDown() throws IOException {
    assertThat(counter.reads).as("the first read, when the stream becomes active").hasValue(1);
    int chunks = StreamPort.HIGH_WATER / MIB;
    for (int i = 1; i <= chunks; i++) {
      channel.writeInbound(Unpooled.wrappedBuffer(filled(MIB, i)));
    }
    assertThat(counter.reads).as("no read once %d MiB wait for the reader", chunks).hasValue(chunks);

    InputStream in = port.in();
    byte[] buf = new byte[MIB];
    int drained = StreamPort.HIGH_WATER - StreamPort.LOW_WATER;
    for (int i = 1; i < drained / MIB; i++) {
      in.readNBytes(buf, 0, MIB);
      assertThat(buf[0]).isEqualTo((byte) i);
      channel.runPendingTasks();
      assertThat(counter.reads).as("still paused after %d MiB read", i).hasValue(chunks);
    }
    in.readNBytes(buf, 0, MIB);
    channel.runPendingTasks();
    assertThat(counter.reads).as("reading again once the backlog is down to the low mark").hasValue(chunks + 1);
  }

  @Test
  void theSendersFinIsTheEndOfInputAfterEveryByte() throws IOException {
    channel.writeInbound(Unpooled.wrappedBuffer("last words".getBytes()));
    channel.pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);

    assertThat(new String(port.in().readAllBytes())).isEqualTo("last words");
    assertThat(port.in().read()).as("the end stays the end").isEqualTo(-1);
  }

  @Test
  void aStreamThatClosesWithoutFinIsAFailureNotAnEnd() throws IOException {
    channel.writeInbound(Unpooled.wrappedBuffer("cut".getBytes()));
    channel.close();

    InputStream in = port.in();
    assertThat(new String(in.readNBytes(3))).isEqualTo("cut");
    assertThatThrownBy(in::read).isInstanceOf(IOException.class).hasMessage("the stream closed");
    assertThatThrownBy(in::read).as("and stays failed").isInstanceOf(IOException.class);
  }

  @Test
  void abortClosesTheStream() {
    port.abort();
    assertThat(channel.isOpen()).isFalse();
    assertThatThrownBy(() -> port.in().read()).isInstanceOf(IOException.class);
  }

  private static byte[] filled(int n, int fill) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) fill);
    return b;
  }
}
