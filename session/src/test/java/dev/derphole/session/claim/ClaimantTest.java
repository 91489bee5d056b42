package dev.derphole.session.claim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.TestTokens;
import dev.derphole.session.token.Token;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The claimant's side, against a real gate. */
class ClaimantTest {
  private final Token token = TestTokens.issue(Capability.OFFER);
  private final SessionKeys keys = SessionKeys.of(token);
  private final NodePublicKey issuer = token.issuerDerpKey();
  private final NodePublicKey alice = TestTokens.derpKey(0xA1);
  private final NodePublicKey bob = TestTokens.derpKey(0xB0);
  private final byte[] aliceTls = TestTokens.tlsKey();
  private final ClaimGate gate =
      new ClaimGate(token, true, () -> List.of("198.51.100.4:53012", "127.0.0.1:9"), false);

  @Test
  void theClaimDescribesUs() {
    Claimant a = new Claimant(token, alice, aliceTls,
        List.of("203.0.113.7:41641", "[::1]:5", "203.0.113.7:41641"), TestTokens.NOW);
    Claim claim = a.claim();
    assertThat(claim.version()).isEqualTo(1);
    assertThat(claim.capability()).isEqualTo(Capability.OFFER);
    assertThat(claim.claimantDerpKey()).isEqualTo(alice);
    assertThat(claim.claimantTlsKey()).isEqualTo(aliceTls);
    assertThat(claim.candidates()).containsExactly("203.0.113.7:41641");
    assertThat(claim.created()).isEqualTo(TestTokens.NOW);
    assertThat(new Claimant(token, alice, aliceTls, List.of(), TestTokens.NOW).claim().nonce())
        .isNotEqualTo(claim.nonce());
  }

  @Test
  void acceptsTheIssuersDecision() {
    Claimant a = new Claimant(token, alice, aliceTls, List.of(), TestTokens.NOW);
    byte[] reply = gate.onPacket(alice, a.sealedClaim(), TestTokens.NOW).orElseThrow()
        .sealedDecision();

    Decision d = a.onPacket(issuer, reply).orElseThrow();

    assertThat(d.accepted()).isTrue();
    assertThat(d.candidates()).containsExactly("198.51.100.4:53012"); // loopback dropped
  }

  @Test
  void hearsARejectForItsOwnClaim() {
    Claimant a = new Claimant(token, alice, aliceTls, List.of(), TestTokens.NOW);
    Claimant b = new Claimant(token, bob, TestTokens.tlsKey(), List.of(), TestTokens.NOW);
    gate.onPacket(alice, a.sealedClaim(), TestTokens.NOW).orElseThrow();
    byte[] reply = gate.onPacket(bob, b.sealedClaim(), TestTokens.NOW).orElseThrow()
        .sealedDecision();

    Decision d = b.onPacket(issuer, reply).orElseThrow();

    assertThat(d.accepted()).isFalse();
    assertThat(d.rejectReason()).isEqualTo("session already claimed");
  }

  @Test
  void ignoresADecisionFromTheWrongDerpKey() {
    Claimant a = new Claimant(token, alice, aliceTls, List.of(), TestTokens.NOW);
    byte[] reply = gate.onPacket(alice, a.sealedClaim(), TestTokens.NOW).orElseThrow()
        .sealedDecision();
    assertThat(a.onPacket(TestTokens.derpKey(0x66), reply)).isEmpty();
    assertThat(a.onPacket(issuer, reply)).isPresent();
  }

  @Test
  void ignoresADecisionForAnotherClaim() {
    Claimant a = new Claimant(token, alice, aliceTls, List.of(), TestTokens.NOW);
    Claimant b = new Claimant(token, bob, TestTokens.tlsKey(), List.of(), TestTokens.NOW);
    byte[] forAlice = gate.onPacket(alice, a.sealedClaim(), TestTokens.NOW).orElseThrow()
        .sealedDecision();
    // The relay hands Alice's accept to Bob: sealed correctly, but it echoes Alice's nonce.
    assertThat(b.onPacket(issuer, forAlice)).isEmpty();
  }

  @Test
  void ignoresDecisionsSealedWithTheWrongKey() {
    Claimant a = new Claimant(token, alice, aliceTls, List.of(), TestTokens.NOW);
    byte[] json = Decision.accept(a.claim().nonce(), List.of()).toJson();
    byte[] withClaimKey =
        Envelope.seal(EnvelopeKind.DECISION, keys.claimKey(), token.sessionId(), json);
    byte[] asControl =
        Envelope.seal(EnvelopeKind.CONTROL, keys.decisionKey(), token.sessionId(), json);
    Token other = TestTokens.issue(Capability.OFFER);
    byte[] otherSession = Envelope.seal(EnvelopeKind.DECISION, SessionKeys.of(other).decisionKey(),
        other.sessionId(), json);
    byte[] right =
        Envelope.seal(EnvelopeKind.DECISION, keys.decisionKey(), token.sessionId(), json);

    assertThat(a.onPacket(issuer, withClaimKey)).isEmpty();
    assertThat(a.onPacket(issuer, asControl)).isEmpty();
    assertThat(a.onPacket(issuer, otherSession)).isEmpty();
    assertThat(a.onPacket(issuer, a.sealedClaim())).isEmpty(); // our own claim reflected
    assertThat(a.onPacket(issuer, new byte[] {0x40, 1, 2})).isEmpty();
    assertThat(a.onPacket(issuer, right)).isPresent();
  }

  @Test
  void ignoresAMalformedDecisionEvenIfAuthentic() {
    Claimant a = new Claimant(token, alice, aliceTls, List.of(), TestTokens.NOW);
    byte[] packet = Envelope.seal(EnvelopeKind.DECISION, keys.decisionKey(), token.sessionId(),
        "{\"accepted\":".getBytes(StandardCharsets.UTF_8));
    assertThat(a.onPacket(issuer, packet)).isEmpty();
  }
}
