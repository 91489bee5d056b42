package dev.derphole.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.derphole.session.stream.StreamReceiver;
import dev.derphole.session.stream.StreamSender;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An issuer and a claimant in one JVM, through a real DERP server on loopback. */
class SessionOverRelayTest {
  @RegisterExtension final LoopbackRelay relay = LoopbackRelay.perTest();
  private final List<String> listenEvents = new CopyOnWriteArrayList<>();
  private final List<String> listenLines = new CopyOnWriteArrayList<>();

  private boolean forceRelay;
  /** The listening side's peer path in the last {@link #pipe}. */
  private dev.derphole.transport.path.PeerPath listenPath;

  private SessionOptions options(Reporter reporter) {
    return relay.options(reporter, forceRelay, Duration.ofSeconds(5));
  }

  private byte[] pipe(byte[] data) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StreamReceiver receiver = new StreamReceiver(out);
    try (IssuedSession listen = IssuedSession.open(Capability.STREAM, options((n, d) -> {
      listenEvents.add(n);
      listenLines.add(n + " " + d);
    }),
        firstStream(receiver))) {
      Token token = Token.decodeFor(listen.token().encode(), Capability.STREAM, Instant.now());
      listenPath = listen.core.path;
      CompletableFuture<Long> sent = CompletableFuture.supplyAsync(() -> {
        try (ClaimedSession pipe = ClaimedSession.claim(token, options(Reporter.SILENT), null)) {
          return StreamSender.send(pipe.connection(), new ByteArrayInputStream(data), n -> { });
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      listen.awaitConnection();
      assertThat(receiver.done().get(60, TimeUnit.SECONDS)).isEqualTo(data.length);
      assertThat(sent.get(60, TimeUnit.SECONDS)).isEqualTo(data.length);
    }
    return out.toByteArray();
  }

  private static io.netty.channel.ChannelInitializer<io.netty.handler.codec.quic.QuicStreamChannel> firstStream(
      StreamReceiver receiver) {
    return new io.netty.channel.ChannelInitializer<>() {
      @Override
      protected void initChannel(io.netty.handler.codec.quic.QuicStreamChannel ch) {
        ch.pipeline().addLast(receiver);
      }
    };
  }

  @Test
  void aStreamArrivesWholeAndBothSidesAgreeOnItsLength() throws Exception {
    byte[] data = new byte[3 << 20];
    new Random(7).nextBytes(data);
    assertThat(pipe(data)).isEqualTo(data);
    assertThat(listenEvents).containsSubsequence("claimed", "connected-relay");
  }

  @Test
  void theSessionMovesToTheDirectPathAndTheDataStaysIntact() throws Exception {
    byte[] data = new byte[24 << 20];
    new Random(8).nextBytes(data);
    assertThat(pipe(data)).isEqualTo(data);
    assertThat(listenEvents).containsSubsequence("claimed", "connected-relay", "connected-direct");
    assertThat(listenPath.quicHeard()).as("QUIC the connection accepted over the direct path kept it alive").isPositive();
    assertThat(listenLines).filteredOn(l -> l.startsWith("connected-direct "))
        .allMatch(l -> l.matches("connected-direct (\\d+\\.\\d+\\.\\d+\\.\\d+|\\[[0-9a-f:]+\\]):\\d+ rtt=.*"), "IP:PORT, no slash");
  }

  @Test
  void portmapLinesSayPortmapOnce() {
    assertThat(SessionCore.portmapDetail("portmap: pcp: no answer; trying NAT-PMP")).isEqualTo("pcp: no answer; trying NAT-PMP");
    assertThat(SessionCore.portmapDetail("portmap=none: no default gateway")).isEqualTo("none: no default gateway");
  }

  @Test
  void forceRelayNeverGoesDirect() throws Exception {
    forceRelay = true;
    byte[] data = new byte[4 << 20];
    new Random(9).nextBytes(data);
    assertThat(pipe(data)).isEqualTo(data);
    assertThat(listenEvents).contains("connected-relay").doesNotContain("connected-direct");
  }

  @Test
  void anEmptyStreamIsConfirmedToo() throws Exception {
    assertThat(pipe(new byte[0])).isEmpty();
  }

  @Test
  void aSecondClaimantIsToldTheSessionIsTaken() throws Exception {
    StreamReceiver receiver = new StreamReceiver(new ByteArrayOutputStream());
    try (IssuedSession listen = IssuedSession.open(Capability.STREAM, options(Reporter.SILENT), firstStream(receiver))) {
      Token token = listen.token();
      try (ClaimedSession first = ClaimedSession.claim(token, options(Reporter.SILENT), null)) {
        assertThat(listen.awaitConnection().isActive()).isTrue();
        assertThatThrownBy(() -> ClaimedSession.claim(token, options(Reporter.SILENT), null))
            .isInstanceOf(SessionException.class)
            .hasMessage("session already claimed");
      }
    }
  }

  @Test
  void nobodyListeningIsReportedQuickly() throws Exception {
    Token token;
    try (IssuedSession gone = IssuedSession.open(Capability.STREAM, options(Reporter.SILENT),
        firstStream(new StreamReceiver(new ByteArrayOutputStream())))) {
      token = gone.token();
    }
    assertThatThrownBy(() -> ClaimedSession.claim(token, options(Reporter.SILENT), null))
        .isInstanceOf(SessionException.class)
        .hasMessageContaining("is not connected to the relay");
  }

  /**
   * A listener that is on the relay but never answers (here: the claim is sealed with another
   * bearer secret, so the issuer cannot open it and stays silent, as it must) ends the claim after
   * the claim timeout with a message that says what to check, not a hang.
   */
  @Test
  void aListenerThatNeverAnswersEndsTheClaimAfterTheTimeoutWithAClearMessage() throws Exception {
    try (IssuedSession listen = IssuedSession.open(Capability.STREAM, options(Reporter.SILENT),
        firstStream(new StreamReceiver(new ByteArrayOutputStream())))) {
      Token real = listen.token();
      byte[] otherSecret = real.bearerSecret().clone();
      otherSecret[0] ^= 1;
      Token unanswerable = new Token(real.version(), real.capability(), real.sessionId(), real.expires(),
          real.issuerDerpKey(), real.issuerTlsKey(), otherSecret, real.relay());
      SessionOptions shortWait = relay.options(Reporter.SILENT, false, Duration.ofSeconds(2));
      assertThatThrownBy(() -> ClaimedSession.claim(unanswerable, shortWait, null))
          .isInstanceOf(SessionException.class)
          .hasMessageMatching("no answer from .* after 2 s; is it still running\\?");
    }
  }

  @Test
  void theSenderFailsWhenTheListenerGoesAwayMidStream() throws Exception {
    CountingOutput arrived = new CountingOutput();
    StreamReceiver receiver = new StreamReceiver(arrived);
    IssuedSession listen = IssuedSession.open(Capability.STREAM, options(Reporter.SILENT), firstStream(receiver));
    Token token = listen.token();
    InputStream endless = new InputStream() {
      @Override
      public int read() {
        return 'x';
      }

      @Override
      public int read(byte[] b, int off, int len) {
        java.util.Arrays.fill(b, off, off + len, (byte) 'x');
        return len;
      }
    };
    try (ClaimedSession pipe = ClaimedSession.claim(token, options(Reporter.SILENT), null)) {
      CompletableFuture<Long> sending = CompletableFuture.supplyAsync(() -> {
        try {
          return StreamSender.send(pipe.connection(), endless, n -> { });
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      listen.awaitConnection();
      // mid-stream: data is flowing
      await("a megabyte arrived").atMost(Duration.ofSeconds(30)).until(() -> arrived.count() >= (1 << 20));
      listen.interrupt();
      listen.close();
      Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> sending.get(30, TimeUnit.SECONDS));
      assertThat(thrown).isNotNull();
      List<Throwable> chain = new ArrayList<>();
      for (Throwable t = thrown; t != null; t = t.getCause()) {
        chain.add(t);
      }
      assertThat(chain).as("the sender fails with a SessionException").anyMatch(SessionException.class::isInstance);
      assertThat(pipe.reason("")).contains("interrupted");
    }
  }
}
