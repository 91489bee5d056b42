package dev.derphole.session;

import static dev.derphole.session.stream.StoppingInput.laneBytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.stream.StreamReceiver;
import dev.derphole.session.stream.StripedReceiver;
import dev.derphole.session.stream.StoppingInput;
import dev.derphole.session.stream.StripedSender;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A stream striped over three direct lanes between two peers on loopback, through a real relay:
 * real UDP sockets, disco, QUIC with pinned keys on every lane.
 */
class LanesOverRelayTest {
  private LoopbackRelay relay;
  private final List<String> pipeLines = new CopyOnWriteArrayList<>();
  private final List<String> listenLines = new CopyOnWriteArrayList<>();
  private final AtomicReference<IssuedSession> listenRef = new AtomicReference<>();
  private final AtomicReference<ClaimedSession> pipeRef = new AtomicReference<>();

  @BeforeEach
  void start() throws Exception {
    relay = LoopbackRelay.start(new MultiThreadIoEventLoopGroup(4, NioIoHandler.newFactory()));
  }

  @AfterEach
  void stop() {
    relay.close();
  }

  private SessionOptions options(List<String> lines) {
    return relay.options((n, d) -> lines.add(n + " " + d), false, Duration.ofSeconds(5));
  }

  /**
   * Pipes {@code data} with {@code lanes} lanes; the input stops at {@code gateAt} until the pipe's
   * events satisfy {@code until}, then {@code atGate} runs and the rest follows.
   */
  private byte[] pipe(byte[] data, int lanes, int gateAt, Predicate<List<String>> until, Runnable atGate,
                      Consumer<ClaimedSession> beforeSend) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StripedReceiver striped = new StripedReceiver(out, (n, d) -> listenLines.add(n + " " + d));
    StreamReceiver plain = new StreamReceiver(out);
    AtomicReference<CompletableFuture<Long>> done = new AtomicReference<>();
    ChannelHandler first = new ChannelInitializer<QuicStreamChannel>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        IssuedSession s = listenRef.get();
        if (s.lanes().agreed() > 1) {
          done.set(striped.done());
          ch.pipeline().addLast(striped.lane0(s.lanes()));
        } else {
          done.set(plain.done());
          ch.pipeline().addLast(plain);
        }
      }
    };
    try (IssuedSession listen = IssuedSession.open(Capability.STREAM, options(listenLines), first, lanes)) {
      listenRef.set(listen);
      listen.useLanes(striped);
      Token token = Token.decodeFor(listen.token().encode(), Capability.STREAM, Instant.now());
      CompletableFuture<Long> sent = CompletableFuture.supplyAsync(() -> {
        try (ClaimedSession pipe = ClaimedSession.claim(token, options(pipeLines), null, lanes, null)) {
          pipeRef.set(pipe);
          beforeSend.accept(pipe);
          InputStream in = new StoppingInput(data, pipeLines, () -> pipeLines + "; the listener's: " + listenLines)
              .stopAt(gateAt, until, atGate);
          return StripedSender.send(pipe.connection(), pipe.lanes(), in, pipe.reporter(), lanes, StripedSender.Mode.FIXED,
              n -> { }, pipe::useLanes);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      listen.awaitConnection();
      assertThat(sent.get(90, TimeUnit.SECONDS)).isEqualTo(data.length);
      assertThat(done.get().get(30, TimeUnit.SECONDS)).isEqualTo(data.length);
    }
    return out.toByteArray();
  }

  private static byte[] random(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  private static long count(List<String> lines, String prefix) {
    return lines.stream().filter(l -> l.startsWith(prefix)).count();
  }

  @Test
  void threeLanesCarryTheStreamIntactAndEachCarriesItsShare() throws Exception {
    byte[] data = random(24 << 20, 1);
    byte[] got = pipe(data, 3, 2 << 20, l -> count(l, "lane-open") == 2, () -> { }, p -> { });
    assertThat(got).isEqualTo(data);
    assertThat(pipeLines).contains("lanes 3 (fixed)");
    assertThat(pipeLines).anyMatch(l -> l.matches("lane-open 1 \\d+->([0-9.]+|\\[[0-9a-f:]+\\]):\\d+"));
    assertThat(pipeLines).anyMatch(l -> l.matches("lane-open 2 \\d+->([0-9.]+|\\[[0-9a-f:]+\\]):\\d+"));
    for (int lane = 0; lane < 3; lane++) {
      assertThat(laneBytes(pipeLines, lane)).as("bytes the sender put on lane " + lane).isPositive();
      assertThat(laneBytes(listenLines, lane)).as("bytes the receiver took from lane " + lane).isPositive();
    }
    assertThat(laneBytes(listenLines, 0) + laneBytes(listenLines, 1) + laneBytes(listenLines, 2)).isEqualTo(data.length);
    assertThat(listenLines).anyMatch(l -> l.startsWith("lane-open 1 "));
  }

  @Test
  void aLaneWhoseFlowIsCutMidTransferGivesItsChunksToTheOthers() throws Exception {
    byte[] data = random(24 << 20, 2);
    // At the stop both lanes are up; the receiver's lane 1 socket then closes, so everything the
    // sender puts on lane 1 from now on is lost until the lane is found dead and its chunks resent.
    byte[] got = pipe(data, 3, 4 << 20, l -> count(l, "lane-open") == 2,
        () -> listenRef.get().core.lanes.connection(1).close(), p -> { });
    assertThat(got).isEqualTo(data);
    assertThat(pipeLines).anyMatch(l -> l.startsWith("lane-close 1 ("));
    assertThat(laneBytes(pipeLines, 2)).isPositive();
  }

  @Test
  void aLaneWithAnotherTlsKeyIsRefusedAndTheStreamGoesOnWithout() throws Exception {
    byte[] data = random(6 << 20, 3);
    byte[] got = pipe(data, 3, 1 << 20, l -> count(l, "lane-close") == 2, () -> { },
        p -> p.core.lanes.laneTls = TlsIdentity.generate());
    assertThat(got).isEqualTo(data);
    assertThat(pipeLines).filteredOn(l -> l.startsWith("lane-close")).allMatch(l -> l.contains("TLS"), "refused for its key");
    assertThat(pipeLines).noneMatch(l -> l.startsWith("lane-open"));
    assertThat(listenLines).noneMatch(l -> l.startsWith("lane-open"));
    assertThat(laneBytes(listenLines, 0)).isEqualTo(data.length);
  }
}
