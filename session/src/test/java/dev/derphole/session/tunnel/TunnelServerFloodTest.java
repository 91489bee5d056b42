package dev.derphole.session.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.session.LoopbackRelay;
import dev.derphole.session.SessionOptions;
import dev.derphole.session.claim.Claimant;
import dev.derphole.session.rendezvous.RelayPicker;
import dev.derphole.session.rendezvous.SessionLink;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.TestTokens;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/**
 * {@code derptun serve} against a client-token holder (mallory) who sends 500 authenticated claims,
 * each with a fresh nonce, as fast as the relay carries them: serve builds a few legs for her and
 * drops the rest, its threads stay bounded, the drops make a line or two in the log, not 500, and
 * another client (alice) connects during the flood and after it. A real relay on loopback, real
 * legs.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TunnelServerFloodTest {
  /** Bound on every wait for the server to catch up; never asserted as a duration. */
  static final Duration PATIENCE = Duration.ofSeconds(90);
  static final int CLAIMS = 500;
  /**
   * Threads one session end may hold at once: the port mapper's three and the relay dialer (four
   * measured), plus the short-lived STUN resolver and closer. Without the limits, 500 legs are
   * some 2000 threads.
   */
  static final int THREADS_PER_LEG = 6;

  @RegisterExtension final LoopbackRelay relay = LoopbackRelay.perTest();
  private final List<String> events = new CopyOnWriteArrayList<>();

  @Test
  void aClientClaimingInALoopGetsAFewLegsAndAnotherClientStillConnects() throws Exception {
    SessionOptions options = relay.options((name, detail) -> events.add(name + " " + detail), false, Duration.ofSeconds(30));
    Instant now = Instant.now();
    ServerToken server = ServerToken.create(TokenKind.SERVER, RelayHint.region(900), now.plus(Duration.ofDays(1)));
    ClientToken mallory = server.mintClient(now.plus(Duration.ofHours(1)), now);
    ClientToken alice = server.mintClient(now.plus(Duration.ofHours(1)), now);
    String malloryId = HexFormat.of().formatHex(mallory.session().sessionId(), 0, 4);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    ChannelInboundHandlerAdapter streams = new ChannelInboundHandlerAdapter() {
      @Override
      public boolean isSharable() {
        return true;
      }
    };
    try (TunnelServer serve = TunnelServer.start(server, options, streams);
         SessionLink raw = new SessionLink(RelayPicker.forClaimant(mallory.session(), options.maps(), options.customMap()).endpoint(),
             NodePrivateKey.generate(), relay.group())) {
      raw.start(SessionOptions.RELAY_TIMEOUT);
      int threadsBefore = threads.getThreadCount();
      threads.resetPeakThreadCount();
      // Mallory claims in a loop: 500 claims, then on until alice is connected (at most 10 times as many).
      java.util.concurrent.atomic.AtomicBoolean aliceUp = new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.atomic.AtomicInteger peakQueue = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.CountDownLatch flooded = new java.util.concurrent.CountDownLatch(1);
      Thread flood = new Thread(() -> {
        while (sent.get() < 10 * CLAIMS && (sent.get() < CLAIMS || !aliceUp.get())) {
          Claimant c = new Claimant(mallory.session(), raw.publicKey(), TestTokens.tlsKey(), List.of(), Instant.now(), true);
          raw.send(server.derpKey().publicKey(), TunnelClaimPacket.wrap(mallory, c.sealedClaim()));
          peakQueue.accumulateAndGet(serve.queuedClaims(), Math::max);
          if (sent.incrementAndGet() == CLAIMS) {
            flooded.countDown();
          }
        }
      }, "mallory");
      long floodStart = System.nanoTime();
      flood.start();
      assertThat(flooded.await(60, TimeUnit.SECONDS)).as("mallory's first 500 claims sent").isTrue();
      try (TunnelClient a = new TunnelClient(alice, options).start()) {
        a.awaitConnection(Duration.ofSeconds(60)); // while mallory goes on claiming
        aliceUp.set(true);
        flood.join(60_000);
        assertThat(flood.isAlive()).isFalse();
        long floodSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - floodStart);
        assertThat(sent.get()).isGreaterThanOrEqualTo(CLAIMS);
        await("serve to deal with every claim").atMost(PATIENCE).until(() -> serve.claimsSeen() >= sent.get() && serve.claimsPending() == 0);
        peakQueue.accumulateAndGet(serve.queuedClaims(), Math::max);

        long malloryLegs = events.stream().filter(e -> e.startsWith("client-claimed " + malloryId)).count();
        assertThat(malloryLegs).as("legs built for mallory").isPositive()
            .isLessThanOrEqualTo(TunnelServer.Limits.DEFAULT.legsPerClient());
        assertThat(serve.peakLegs()).as("legs at once").isLessThanOrEqualTo(TunnelServer.Limits.DEFAULT.legsPerClient() + 2);
        assertThat(peakQueue.get()).as("claims queued").isLessThanOrEqualTo(TunnelServer.MAX_QUEUED_CLAIMS);
        // Every claim past mallory's few legs is dropped, once it reaches serve: alice's claims count
        // in claimsSeen too, so mallory's last may still be on its way, and the relay itself may drop
        // a few when serve's queue to it is full.
        long limit = TunnelServer.Limits.DEFAULT.legsPerClient();
        await("mallory's claims to be dropped").atMost(PATIENCE).until(() -> serve.droppedClaims() >= sent.get() - limit - relay.metrics().droppedQueueFull());
        // Mallory's legs, and alice's ends on both sides (two connections), and a few to spare.
        assertThat(threads.getPeakThreadCount() - threadsBefore).as("threads added at the peak")
            .isLessThanOrEqualTo(THREADS_PER_LEG * (TunnelServer.Limits.DEFAULT.legsPerClient() + 4) + 8);

        // After the flood: another connection for alice, while mallory's legs still wait for her.
        try (TunnelClient after = new TunnelClient(alice, options).start()) {
          after.awaitConnection(Duration.ofSeconds(60));
        }
        // The drops make one report per interval while they last, not one line per claim.
        await("the drop report").atMost(PATIENCE).until(() -> events.stream().anyMatch(e -> e.startsWith("claims-dropped ")));
        assertThat(events.stream().filter(e -> e.startsWith("claims-dropped ")).count())
            .isLessThanOrEqualTo(floodSeconds / TunnelServer.DROP_REPORT_INTERVAL.toSeconds() + 2);
      }
      assertThat(events.stream().filter(e -> e.startsWith("claims-dropped ")).findFirst().orElseThrow())
          .contains("client at its connection limit");
      // Every leg gives its place back when it ends: mallory's when her 30 s to connect are up.
      await("every leg to close").atMost(PATIENCE).until(() -> serve.legs() == 0);
    }
  }
}
