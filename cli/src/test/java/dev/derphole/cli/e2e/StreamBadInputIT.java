package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.claim.Claimant;
import dev.derphole.session.claim.Decision;
import dev.derphole.session.claim.Envelope;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.Token;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What {@code derphole pipe} and {@code derphole listen} do with bad tokens, hostile claims and a
 * peer that goes away: one line for the user and exit 1, never a stack trace, never a hang.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class StreamBadInputIT extends RelayedIT {
  static final Path NO_INPUT = Path.of("/dev/null");
  static final Duration TRANSFER = StreamPipeIT.TRANSFER;
  /** The issue's bound for noticing that the other side is gone. */
  static final Duration NOTICE = Duration.ofSeconds(30);
  /** How long we listen for an answer that must not come: proving absence needs some window. */
  static final Duration SILENCE = Duration.ofSeconds(3);
  static final Duration ANSWER = Duration.ofSeconds(15);

  private EventLoopGroup group;

  @BeforeEach
  void eventLoop() {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  /** Runs before {@link RelayedIT#stopProcesses}. */
  @AfterEach
  void stopEventLoop() throws Exception {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
  }

  // ---------------------------------------------------------------- tokens the decoder refuses

  /** A well-formed stream token for a session nobody runs, issued at {@code issued}. */
  private static Token token(Capability capability, Instant issued) {
    return Token.issue(capability, NodePrivateKey.generate().publicKey(), RelayPeer.freshTlsKey(),
        new RelayHint(900, Optional.empty()), issued);
  }

  /** {@code derphole pipe TEXT} exits 1 with one line; returns the message after "derphole: ". */
  private String pipeRefuses(String text) throws Exception {
    Derphole pipe = Derphole.start(processes, dir, "pipe", relay.mapFile(), NO_INPUT, "pipe", text);
    pipe.assertExit(1, NOTICE);
    assertThat(pipe.stdout).isEmptyFile();
    return pipe.assertOneLineError();
  }

  @Test
  void truncatedTokenIsReportedAsCorrupted() throws Exception {
    String text = token(Capability.STREAM, Instant.now()).encode();
    assertThat(pipeRefuses(text.substring(0, text.length() - 11)))
        .isEqualTo("the token is corrupted (checksum mismatch); copy it again");
  }

  @Test
  void tokenWithOneCharacterChangedIsReportedAsCorrupted() throws Exception {
    String text = token(Capability.STREAM, Instant.now()).encode();
    int at = 100;
    char changed = text.charAt(at) == 'Q' ? 'R' : 'Q';
    String damaged = text.substring(0, at) + changed + text.substring(at + 1);
    assertThat(pipeRefuses(damaged)).isEqualTo("the token is corrupted (checksum mismatch); copy it again");
  }

  @Test
  void randomTextIsNotADerpholeToken() throws Exception {
    Random random = new Random(11);
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 60; i++) {
      text.append((char) ('a' + random.nextInt(26)));
    }
    assertThat(pipeRefuses(text.toString())).isEqualTo("that is not a derphole token");
  }

  @Test
  void expiredTokenSaysHowLongAgoItExpired() throws Exception {
    Token expired = token(Capability.STREAM, Instant.now().minus(Duration.ofHours(2)));
    assertThat(pipeRefuses(expired.encode())).isEqualTo("the token expired 1 hour ago");
  }

  @Test
  void shareTokenGivenToPipeNamesTheCommandItIsFor() throws Exception {
    Token share = token(Capability.SHARE, Instant.now());
    assertThat(pipeRefuses(share.encode())).isEqualTo("this token is for `derphole open`, not `derphole pipe`");
  }

  // ---------------------------------------------------------------- claims

  @Test
  void secondClaimantIsToldSessionAlreadyClaimedAndTheFirstTransferCompletesIntact() throws Exception {
    byte[] first = new byte[3 << 20];
    byte[] rest = new byte[5 << 20];
    new Random(1).nextBytes(first);
    new Random(2).nextBytes(rest);
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT, "--verbose", "listen");
    String token = listen.awaitToken();
    Derphole pipe1 = Derphole.start(processes, dir, "pipe1", relay.mapFile(), null, "pipe", token);
    CountDownLatch more = new CountDownLatch(1);
    AtomicReference<Throwable> feedError = new AtomicReference<>();
    Thread feeder = processes.thread("pipe1-stdin", () -> {
      try (OutputStream in = pipe1.stdin()) {
        in.write(first);
        in.flush();
        more.await();
        in.write(rest);
      } catch (Exception e) {
        feedError.set(e);
      }
    });
    listen.awaitEvent("connected-relay");
    listen.awaitStdoutSize(1 << 20); // mid-stream: data is flowing and the input has not ended

    Derphole pipe2 = Derphole.start(processes, dir, "pipe2", relay.mapFile(), NO_INPUT, "pipe", token);
    pipe2.assertExit(1, NOTICE);
    assertThat(pipe2.assertOneLineError()).isEqualTo("session already claimed");

    more.countDown();
    feeder.join(TRANSFER.toMillis());
    assertThat(feedError.get()).isNull();
    pipe1.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    all.write(first);
    all.write(rest);
    assertThat(Bytes.sha256(listen.stdout)).isEqualTo(Bytes.sha256(all.toByteArray()));
  }

  /**
   * A claim sealed with the wrong bearer secret (right session id, issuer keys and relay: only the
   * MAC key differs) gets no answer at all: no reject, so nobody without the token learns whether
   * the session is still open. The relay does deliver it (no PeerGone), and afterwards the genuine
   * token still works.
   */
  @Test
  void claimWithBadMacIsIgnoredWithoutAnAnswerAndTheGenuineTokenStillWorks() throws Exception {
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT, "--verbose", "listen");
    String text = listen.awaitToken();
    listen.awaitEvent("waiting-for-claim");
    Token genuine = Token.decode(text, Instant.now());
    byte[] otherSecret = new byte[Token.BEARER_LENGTH];
    new SecureRandom().nextBytes(otherSecret);
    Token forged = new Token(genuine.version(), genuine.capability(), genuine.sessionId(), genuine.expires(),
        genuine.issuerDerpKey(), genuine.issuerTlsKey(), otherSecret, genuine.relay());
    assertThat(forged.sessionId()).isEqualTo(genuine.sessionId());

    try (RelayPeer mallory = new RelayPeer(relay.node(), group)) {
      Claimant claimant = new Claimant(forged, mallory.publicKey(), mallory.tlsKey, List.of(), Instant.now());
      for (int i = 0; i < 3; i++) {
        mallory.send(genuine.issuerDerpKey(), claimant.sealedClaim());
      }
      RelayPeer.Arrival answer = mallory.poll(SILENCE);
      assertThat(answer).as("no envelope, and no PeerGone either (the listener is on the relay)").isNull();
    }
    assertThat(listen.stderr()).doesNotContainPattern(Pattern.compile("(?m)^claimed"));

    Path input = Bytes.randomFile(dir.resolve("after-forgery.in"), 1 << 20, 9);
    Derphole pipe = Derphole.start(processes, dir, "pipe", relay.mapFile(), input, "pipe", text);
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).isEqualTo(Bytes.sha256(input));
  }

  /**
   * What this proves: a genuine sealed claim (the exact bytes a claimant sent, as a relay operator
   * could record them) that reaches the listener from a DERP key other than the one named inside
   * it is ignored, with no answer. The same bytes from the claimant's own key are answered (with
   * the same accept, as a retry), so the bytes are valid and the silence comes from the check of
   * the claimant key against the DERP source, not from anything else: a relay cannot replay a
   * recorded claim under its own key to take the session or to learn the decision.
   */
  @Test
  void genuineClaimReplayedFromAnotherDerpKeyIsIgnored() throws Exception {
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT, "--verbose", "listen");
    String text = listen.awaitToken();
    listen.awaitEvent("waiting-for-claim");
    Token token = Token.decode(text, Instant.now());
    NodePublicKey issuer = token.issuerDerpKey();

    try (RelayPeer alice = new RelayPeer(relay.node(), group);
         RelayPeer replayer = new RelayPeer(relay.node(), group)) {
      Claimant claimant = new Claimant(token, alice.publicKey(), alice.tlsKey, List.of(), Instant.now());
      byte[] sealed = claimant.sealedClaim();

      alice.send(issuer, sealed);
      Decision accept = awaitDecision(alice, claimant, issuer);
      assertThat(accept.accepted()).isTrue();
      listen.awaitEvent("claimed");

      replayer.send(issuer, sealed);
      assertThat(replayer.poll(SILENCE)).as("the replayed claim gets no answer").isNull();

      alice.send(issuer, sealed);
      Decision again = awaitDecision(alice, claimant, issuer);
      assertThat(again.accepted()).as("the same bytes from the claimant's own key: the same accept").isTrue();
      assertThat(again.claimNonce()).isEqualTo(claimant.claim().nonce());
    }
    assertThat(listen.process.isAlive()).as("the listener waits for its claimant; stderr:%n%s", listen.stderr())
        .isTrue();
  }

  /** The decision on {@code claimant}'s claim among what {@code peer} receives. */
  private static Decision awaitDecision(RelayPeer peer, Claimant claimant, NodePublicKey issuer)
      throws InterruptedException {
    long deadline = System.nanoTime() + ANSWER.toNanos();
    while (System.nanoTime() < deadline) {
      RelayPeer.Arrival a = peer.poll(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      if (a == null) {
        break;
      }
      assertThat(a.isPacket()).as("PeerGone %s from the relay", a.gone()).isTrue();
      if (a.source().equals(issuer) && Envelope.isEnvelope(a.packet())) {
        Optional<Decision> d = claimant.onPacket(a.source(), a.packet());
        if (d.isPresent()) {
          return d.get();
        }
      }
    }
    throw new AssertionError("no decision from the listener within " + ANSWER);
  }

  // ---------------------------------------------------------------- the other side goes away

  /** {@code listen --print-token-only} and a pipe with an endless stdin, with data flowing. */
  private Derphole[] midStream() throws Exception {
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT,
        "listen", "--print-token-only");
    String token = listen.awaitBareToken();
    Derphole pipe = Derphole.start(processes, dir, "pipe", relay.mapFile(), null, "pipe", token);
    new Bytes.EndlessInput(processes, "pipe-stdin", pipe.stdin());
    listen.awaitStdoutSize(2 << 20);
    return new Derphole[] {listen, pipe};
  }

  @Test
  void pipeExitsWithOneLineWhenTheListenerIsKilledMidStream() throws Exception {
    Derphole[] both = midStream();
    Derphole listen = both[0];
    Derphole pipe = both[1];
    listen.process.destroyForcibly();
    assertThat(listen.process.waitFor(NOTICE.toSeconds(), TimeUnit.SECONDS)).isTrue();

    int code = pipe.exitWithin(NOTICE);
    assertThat(code).as("pipe exit code; stderr:%n%s", pipe.stderr()).isNotZero();
    String message = pipe.assertOneLineError();
    assertThat(message).isNotBlank();
  }

  @Test
  void listenerExitsWithOneLineWhenThePipeIsKilledMidStream() throws Exception {
    Derphole[] both = midStream();
    Derphole listen = both[0];
    Derphole pipe = both[1];
    pipe.process.destroyForcibly();
    assertThat(pipe.process.waitFor(NOTICE.toSeconds(), TimeUnit.SECONDS)).isTrue();

    int code = listen.exitWithin(NOTICE);
    assertThat(code).as("listen exit code; stderr:%n%s", listen.stderr()).isNotZero();
    String all = listen.stderr();
    assertThat(all).doesNotContain("Exception").doesNotContain("\tat ");
    List<String> lines = listen.stderrLines();
    assertThat(lines).as("the token, then one line:%n%s", all).hasSize(2);
    assertThat(lines.get(0)).matches(Derphole.TOKEN.pattern());
    assertThat(lines.get(1)).startsWith("derphole: ");
  }

  @Test
  void listenerSaysTheOtherSideWasInterruptedWhenThePipeGetsCtrlC() throws Exception {
    Derphole[] both = midStream();
    Derphole listen = both[0];
    Derphole pipe = both[1];
    Process kill = processes.start(new ProcessBuilder("kill", "-INT", Long.toString(pipe.process.pid()))
        .redirectErrorStream(true).redirectOutput(dir.resolve("kill.out").toFile()));
    assertThat(kill.waitFor(NOTICE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
    pipe.exitWithin(NOTICE);

    int code = listen.exitWithin(NOTICE);
    assertThat(code).as("listen exit code; stderr:%n%s", listen.stderr()).isNotZero();
    String all = listen.stderr();
    assertThat(all).doesNotContain("Exception").doesNotContain("\tat ");
    List<String> lines = listen.stderrLines();
    assertThat(lines).as("the token, then one line:%n%s", all).hasSize(2);
    assertThat(lines.get(1)).startsWith("derphole: ").contains("the other side was interrupted");
  }
}
