package dev.derphole.session.claim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.TestTokens;
import dev.derphole.session.token.Token;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The issuer's gate. Alice and Bob are claimants, Mallory runs (or is) the relay and has no
 * bearer secret.
 */
class ClaimGateTest {
  private static final Instant NOW = TestTokens.NOW;
  private static final List<String> ISSUER_CANDIDATES = List.of("198.51.100.4:53012");

  private final Token token = TestTokens.issue(Capability.SHARE);
  private final SessionKeys keys = SessionKeys.of(token);
  private final NodePublicKey alice = TestTokens.derpKey(0xA1);
  private final NodePublicKey bob = TestTokens.derpKey(0xB0);
  private final NodePublicKey mallory = TestTokens.derpKey(0x66);
  private final ClaimGate gate = new ClaimGate(token, true, () -> ISSUER_CANDIDATES, false);

  @Test
  void firstClaimantIsAccepted() {
    Claimant a = new Claimant(token, alice, TestTokens.tlsKey(),
        List.of("203.0.113.7:41641", "127.0.0.1:5", "nonsense"), NOW);

    ClaimGate.Outcome outcome = gate.onPacket(alice, a.sealedClaim(), NOW).orElseThrow();

    assertThat(outcome.accepted()).contains(a.claim());
    assertThat(outcome.accepted().orElseThrow().candidates()).containsExactly("203.0.113.7:41641");
    assertThat(decision(outcome)).isEqualTo(Decision.accept(a.claim().nonce(), ISSUER_CANDIDATES));
    assertThat(gate.acceptedClaim()).contains(a.claim());
  }

  @Test
  void identicalRetryGetsTheSameAcceptAgain() {
    Claimant a = new Claimant(token, alice, TestTokens.tlsKey(), List.of(), NOW);
    ClaimGate.Outcome first = gate.onPacket(alice, a.sealedClaim(), NOW).orElseThrow();

    ClaimGate.Outcome retry =
        gate.onPacket(alice, a.sealedClaim(), NOW.plusSeconds(1)).orElseThrow();

    assertThat(retry.accepted()).isEmpty();
    assertThat(decision(retry)).isEqualTo(decision(first));
    assertThat(retry.sealedDecision()).isNotEqualTo(first.sealedDecision()); // fresh nonce
    assertThat(gate.acceptedClaim()).contains(a.claim());
  }

  @Test
  void secondClaimantIsToldTheSessionIsTaken() {
    Claimant a = new Claimant(token, alice, TestTokens.tlsKey(), List.of(), NOW);
    Claimant b = new Claimant(token, bob, TestTokens.tlsKey(), List.of(), NOW);
    gate.onPacket(alice, a.sealedClaim(), NOW).orElseThrow();

    ClaimGate.Outcome outcome = gate.onPacket(bob, b.sealedClaim(), NOW).orElseThrow();

    assertThat(outcome.accepted()).isEmpty();
    assertThat(decision(outcome))
        .isEqualTo(Decision.reject(b.claim().nonce(), "claimed", "session already claimed"));
    assertThat(gate.acceptedClaim()).contains(a.claim());
  }

  @Test
  void aliceClaimingAgainWithANewNonceIsAlsoRefused() {
    byte[] tls = TestTokens.tlsKey();
    gate.onPacket(alice, new Claimant(token, alice, tls, List.of(), NOW).sealedClaim(), NOW);
    Claimant again = new Claimant(token, alice, tls, List.of(), NOW);
    assertThat(decision(gate.onPacket(alice, again.sealedClaim(), NOW).orElseThrow()).rejectCode())
        .isEqualTo("claimed");
  }

  @Test
  void badMacIsIgnoredEvenWhenClaimed() {
    Token other = TestTokens.issue(Capability.SHARE); // same issuer, other bearer secret
    Claimant withoutSecret = new Claimant(other, mallory, TestTokens.tlsKey(), List.of(), NOW);

    assertThat(gate.onPacket(mallory, withoutSecret.sealedClaim(), NOW)).isEmpty();
    gate.onPacket(alice, new Claimant(token, alice, TestTokens.tlsKey(), List.of(), NOW)
        .sealedClaim(), NOW).orElseThrow();
    // No reply, so no "already claimed" oracle for someone without the secret.
    assertThat(gate.onPacket(mallory, withoutSecret.sealedClaim(), NOW)).isEmpty();
    assertThat(gate.onPacket(mallory, new byte[] {0, 1, 1}, NOW)).isEmpty();
    assertThat(gate.onPacket(mallory, new byte[0], NOW)).isEmpty();
  }

  @Test
  void forgedSourceIsIgnored() {
    Claimant a = new Claimant(token, alice, TestTokens.tlsKey(), List.of(), NOW);
    // The relay delivers Alice's claim as if it came from Mallory's key.
    assertThat(gate.onPacket(mallory, a.sealedClaim(), NOW)).isEmpty();
    assertThat(gate.acceptedClaim()).isEmpty();
    // Alice herself is still welcome.
    assertThat(gate.onPacket(alice, a.sealedClaim(), NOW).orElseThrow().accepted()).isPresent();
  }

  @Test
  void envelopeOfAnotherKindIsIgnored() {
    Claimant a = new Claimant(token, alice, TestTokens.tlsKey(), List.of(), NOW);
    byte[] asControl = Envelope.seal(EnvelopeKind.CONTROL, keys.claimKey(), token.sessionId(),
        a.claim().toJson());
    assertThat(gate.onPacket(alice, asControl, NOW)).isEmpty();
  }

  @Test
  void expiredTokenIsRefusedWithHowLongAgo() {
    Claimant a = new Claimant(token, alice, TestTokens.tlsKey(), List.of(), NOW);
    Instant late = token.expires().plus(Duration.ofMinutes(12));
    Decision d = decision(gate.onPacket(alice, a.sealedClaim(), late).orElseThrow());
    assertThat(d.rejectCode()).isEqualTo("expired");
    assertThat(d.rejectReason()).isEqualTo("the token expired 12 minutes ago");
    assertThat(gate.acceptedClaim()).isEmpty();
  }

  @Test
  void wrongCapabilityIsRefusedNamingBothCommands() {
    Claim claim = claim(alice, Capability.STREAM, 1, NOW);
    Decision d = decision(gate.onPacket(alice, seal(claim), NOW).orElseThrow());
    assertThat(d.rejectCode()).isEqualTo("wrong_capability");
    assertThat(d.rejectReason())
        .isEqualTo("this token is for `derphole open`, not `derphole pipe`");
    assertThat(d.claimNonce()).isEqualTo(claim.nonce());
  }

  @Test
  void otherClaimVersionIsRefused() {
    Decision d = decision(
        gate.onPacket(alice, seal(claim(alice, Capability.SHARE, 2, NOW)), NOW).orElseThrow());
    assertThat(d.rejectCode()).isEqualTo("unsupported_version");
    assertThat(d.rejectReason())
        .isEqualTo("the claim is version 2; this derphole understands version 1");
  }

  @Test
  void authenticatedButMalformedIsRefused() {
    byte[] json = "{\"version\":1,\"nonce\":\"Dw8PDw8PDw8PDw8PDw8PDw\"}"
        .getBytes(StandardCharsets.UTF_8);
    byte[] packet = Envelope.seal(EnvelopeKind.CLAIM, keys.claimKey(), token.sessionId(), json);

    ClaimGate.Outcome outcome = gate.onPacket(mallory, packet, NOW).orElseThrow();

    Decision d = decision(outcome);
    assertThat(d.rejectCode()).isEqualTo("malformed");
    assertThat(d.rejectReason()).isEqualTo("malformed claim: claim has no capability");
    assertThat(d.claimNonce()).containsOnly(0x0F); // echoed, so its sender can match it
    assertThat(outcome.accepted()).isEmpty();

    byte[] garbage = Envelope.seal(EnvelopeKind.CLAIM, keys.claimKey(), token.sessionId(),
        new byte[] {1, 2, 3});
    Decision g = decision(gate.onPacket(mallory, garbage, NOW).orElseThrow());
    assertThat(g.rejectReason()).isEqualTo("malformed claim: claim is not valid JSON");
    assertThat(g.claimNonce()).isEmpty();
  }

  @Test
  void staleClaimsAreRefused() {
    // A long-lived token, so that a replay hours later is not simply "expired".
    Token longLived = new Token(1, Capability.SHARE, token.sessionId(),
        NOW.plus(Duration.ofDays(2)), token.issuerDerpKey(), token.issuerTlsKey(),
        token.bearerSecret(), RelayHint.region(1));
    ClaimGate longGate = new ClaimGate(longLived, true);
    Claimant a = new Claimant(longLived, alice, TestTokens.tlsKey(), List.of(), NOW);
    byte[] recorded = a.sealedClaim();

    Decision replayed =
        decision(longGate.onPacket(alice, recorded, NOW.plus(Duration.ofHours(3))).orElseThrow());
    assertThat(replayed.rejectCode()).isEqualTo("stale");
    assertThat(replayed.rejectReason())
        .isEqualTo("stale claim: made 3 hours ago; check both clocks");

    Claim future = claim(alice, Capability.SHARE, 1, NOW.plus(Duration.ofMinutes(5)));
    Decision early = decision(longGate.onPacket(alice, seal(future), NOW).orElseThrow());
    assertThat(early.rejectReason())
        .isEqualTo("stale claim: made 5 minutes in the future; check both clocks");

    // Two minutes either way is fine.
    assertThat(longGate.onPacket(alice, recorded, NOW.plus(ClaimGate.CLAIM_WINDOW)).orElseThrow()
        .accepted()).isPresent();
  }

  @Test
  void rejectionsLeaveTheSessionOpen() {
    gate.onPacket(alice, seal(claim(alice, Capability.STREAM, 1, NOW)), NOW).orElseThrow();
    gate.onPacket(alice, seal(claim(alice, Capability.SHARE, 2, NOW)), NOW).orElseThrow();
    gate.onPacket(alice, seal(claim(alice, Capability.SHARE, 1, NOW.minusSeconds(3600))), NOW);
    Claimant b = new Claimant(token, bob, TestTokens.tlsKey(), List.of(), NOW);
    assertThat(gate.onPacket(bob, b.sealedClaim(), NOW).orElseThrow().accepted()).isPresent();
  }

  @Test
  void notOneShotAcceptsEveryDistinctClaimant() {
    ClaimGate many = new ClaimGate(token, false);
    Claimant a = new Claimant(token, alice, TestTokens.tlsKey(), List.of(), NOW);
    Claimant b = new Claimant(token, bob, TestTokens.tlsKey(), List.of(), NOW);

    assertThat(many.onPacket(alice, a.sealedClaim(), NOW).orElseThrow().accepted())
        .contains(a.claim());
    assertThat(many.onPacket(bob, b.sealedClaim(), NOW).orElseThrow().accepted())
        .contains(b.claim());
    ClaimGate.Outcome retry = many.onPacket(alice, a.sealedClaim(), NOW).orElseThrow();
    assertThat(retry.accepted()).isEmpty();
    assertThat(decision(retry).accepted()).isTrue();
    assertThat(many.acceptedClaim()).contains(a.claim());
  }

  @Test
  void loopbackCandidatesOnlyWhenTheGateAllowsThem() {
    ClaimGate local = new ClaimGate(token, true, () -> List.of("127.0.0.1:7000"), true);
    Claimant a = new Claimant(token, alice, TestTokens.tlsKey(), List.of("127.0.0.1:7001"), NOW,
        true);
    ClaimGate.Outcome outcome = local.onPacket(alice, a.sealedClaim(), NOW).orElseThrow();
    assertThat(outcome.accepted().orElseThrow().candidates()).containsExactly("127.0.0.1:7001");
    assertThat(decision(outcome).candidates()).containsExactly("127.0.0.1:7000");

    ClaimGate strict = new ClaimGate(token, true, () -> List.of("127.0.0.1:7000"), false);
    ClaimGate.Outcome refused = strict.onPacket(alice, a.sealedClaim(), NOW).orElseThrow();
    assertThat(refused.accepted().orElseThrow().candidates()).isEmpty();
    assertThat(decision(refused).candidates()).isEmpty();
  }

  @Test
  void concurrentClaimantsGetExactlyOneAccept() throws Exception {
    int n = 16;
    List<Callable<Optional<ClaimGate.Outcome>>> tasks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      NodePublicKey key = TestTokens.derpKey(0x10 + i);
      byte[] packet = new Claimant(token, key, TestTokens.GENERATOR_TLS_KEY, List.of(), NOW)
          .sealedClaim();
      tasks.add(() -> gate.onPacket(key, packet, NOW));
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      int accepted = 0;
      for (Future<Optional<ClaimGate.Outcome>> f : pool.invokeAll(tasks)) {
        accepted += f.get().orElseThrow().accepted().isPresent() ? 1 : 0;
      }
      assertThat(accepted).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  private Decision decision(ClaimGate.Outcome outcome) {
    Envelope.Opened opened =
        Envelope.open(keys.decisionKey(), token.sessionId(), outcome.sealedDecision())
            .orElseThrow();
    assertThat(opened.kind()).isEqualTo(EnvelopeKind.DECISION);
    try {
      return Decision.parse(opened.plaintext());
    } catch (ClaimException e) {
      throw new AssertionError(e);
    }
  }

  private static Claim claim(NodePublicKey from, Capability capability, int version,
      Instant created) {
    byte[] nonce = new byte[16];
    nonce[0] = (byte) version;
    nonce[1] = (byte) capability.code();
    return new Claim(version, capability, from, TestTokens.GENERATOR_TLS_KEY, List.of(), nonce,
        created);
  }

  private byte[] seal(Claim claim) {
    return Envelope.seal(EnvelopeKind.CLAIM, keys.claimKey(), token.sessionId(), claim.toJson());
  }
}
