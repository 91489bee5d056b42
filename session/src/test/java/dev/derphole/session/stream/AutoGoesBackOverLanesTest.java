package dev.derphole.session.stream;

import static dev.derphole.session.stream.StoppingInput.laneBytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.LoopbackRelay;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * --parallel auto going back, over real sockets: two peers on loopback through a real relay, a
 * probe that grows to two lanes and then goes back to one (as {@link LaneGrowth} does when the
 * doubling did not pay). The input stops until the sender has gone back, so every byte after that
 * stop must come on lane 0: the retired lane takes no new chunks, yet its stream ends cleanly.
 */
class AutoGoesBackOverLanesTest {
  static final int FIRST_STOP = 2 << 20;
  static final int SECOND_STOP = 6 << 20;
  private LoopbackRelay relay;
  private final List<String> pipeLines = new CopyOnWriteArrayList<>();
  private final List<String> listenLines = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    relay = LoopbackRelay.start(new MultiThreadIoEventLoopGroup(4, NioIoHandler.newFactory()));
  }

  @AfterEach
  void stop() {
    relay.close();
  }

  /** Two lanes once lane 0 is direct; back to one once both carried data and 3 MiB are acknowledged. */
  private static final class GrowsThenGoesBack extends LaneGrowth {
    private int target = 1;
    private boolean done;

    GrowsThenGoesBack() {
      super(1, 2);
    }

    @Override
    int target() {
      return target;
    }

    @Override
    boolean step(long now, long acknowledged, int live, BooleanSupplier direct, IntConsumer change) {
      if (done || !direct.getAsBoolean()) {
        return false;
      }
      if (target == 1) {
        target = 2;
        change.accept(2);
        return true;
      }
      if (live >= 2 && acknowledged >= 3 << 20) {
        target = 1;
        done = true;
        change.accept(1);
        return true;
      }
      return false;
    }
  }

  @Test
  void aRetiredLaneTakesNoNewChunksAndTheStreamEndsIntactWithoutALaneClose() throws Exception {
    byte[] data = new byte[32 << 20];
    new Random(34).nextBytes(data);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AtomicReference<IssuedSession> listenRef = new AtomicReference<>();
    StripedReceiver striped = new StripedReceiver(out, (n, d) -> listenLines.add(n + " " + d));
    ChannelHandler first = new ChannelInitializer<QuicStreamChannel>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        ch.pipeline().addLast(striped.lane0(listenRef.get().lanes()));
      }
    };
    try (IssuedSession listen = IssuedSession.open(Capability.STREAM,
        relay.options((n, d) -> listenLines.add(n + " " + d), false, Duration.ofSeconds(5)), first, 2)) {
      listenRef.set(listen);
      listen.useLanes(striped);
      Token token = Token.decodeFor(listen.token().encode(), Capability.STREAM, Instant.now());
      CompletableFuture<Long> sent = CompletableFuture.supplyAsync(() -> {
        try (ClaimedSession pipe = ClaimedSession.claim(token,
            relay.options((n, d) -> pipeLines.add(n + " " + d), false, Duration.ofSeconds(5)), null, 2, null)) {
          return StripedSender.send(pipe.connection(), pipe.lanes(), new StoppingInput(data, pipeLines, () -> String.valueOf(pipeLines))
              .stopAt(FIRST_STOP, l -> l.stream().anyMatch(x -> x.startsWith("lane-open 1 ")), () -> { })
              .stopAt(SECOND_STOP, l -> l.contains("lanes 1 (auto)"), () -> { }), pipe.reporter(),
              new GrowsThenGoesBack(), StripedSender.Mode.AUTO, n -> { }, pipe::useLanes);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      listen.awaitConnection();
      assertThat(sent.get(90, TimeUnit.SECONDS)).isEqualTo(data.length);
      assertThat(striped.done().get(30, TimeUnit.SECONDS)).isEqualTo(data.length);
    }
    assertThat(out.toByteArray()).isEqualTo(data);
    assertThat(pipeLines).containsSubsequence("lanes 1 (auto)", "lanes 2 (auto)", "lanes 1 (auto)");
    // Lane 1 may join while the first stretch is still going out; nothing past the second stop is its.
    assertThat(laneBytes(pipeLines, 1)).as("lane 1 carried some of the first 6 MiB").isPositive()
        .as("and nothing after the probe went back").isLessThanOrEqualTo(SECOND_STOP);
    assertThat(laneBytes(pipeLines, 0) + laneBytes(pipeLines, 1)).isEqualTo(data.length);
    assertThat(pipeLines).noneMatch(l -> l.startsWith("lane-close"));
    assertThat(listenLines).noneMatch(l -> l.startsWith("lane-close"));
  }
}
