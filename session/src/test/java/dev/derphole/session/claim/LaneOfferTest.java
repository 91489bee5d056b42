package dev.derphole.session.claim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.TestTokens;
import dev.derphole.session.token.Token;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Lanes agreed in the claim and the decision, and what a side that predates lanes sees. */
class LaneOfferTest {
  private final Token token = TestTokens.issue(Capability.STREAM);
  private final SessionKeys keys = SessionKeys.of(token);
  private final NodePublicKey issuer = token.issuerDerpKey();
  private final NodePublicKey alice = TestTokens.derpKey(0xA1);

  private Claimant claimant(int lanes) {
    Claimant a = new Claimant(token, alice, TestTokens.tlsKey(), List.of(), TestTokens.NOW);
    a.offerLanes(lanes);
    return a;
  }

  private ClaimGate gate(int lanes) {
    ClaimGate g = new ClaimGate(token, true, List::of, false);
    g.offerLanes(lanes);
    return g;
  }

  private byte[] open(byte[] key, byte[] sealed) {
    return Envelope.open(key, token.sessionId(), sealed).orElseThrow().plaintext();
  }

  @Test
  void bothSidesAgreeOnTheSmallerNumber() {
    Claimant a = claimant(4);
    ClaimGate g = gate(3);
    byte[] reply = g.onPacket(alice, a.sealedClaim(), TestTokens.NOW).orElseThrow().sealedDecision();
    assertThat(a.onPacket(issuer, reply).orElseThrow().accepted()).isTrue();
    assertThat(g.agreedLanes()).isEqualTo(3);
    assertThat(a.agreedLanes()).isEqualTo(3);
  }

  @Test
  void oneLaneLeavesTheClaimAndTheDecisionAsTheyWereBeforeLanes() {
    Claimant a = claimant(1);
    assertThat(open(keys.claimKey(), a.sealedClaim())).isEqualTo(a.claim().toJson());
    ClaimGate g = gate(8);
    byte[] decision = open(keys.decisionKey(), g.onPacket(alice, a.sealedClaim(), TestTokens.NOW).orElseThrow().sealedDecision());
    assertThat(new String(decision, StandardCharsets.UTF_8)).doesNotContain("lanes");
    assertThat(g.agreedLanes()).isEqualTo(1);
  }

  @Test
  void aPeerThatSaysNothingGetsOneLane() {
    // An issuer that predates lanes: its gate never offers any (the decision has no field).
    Claimant a = claimant(8);
    byte[] reply = gate(1).onPacket(alice, a.sealedClaim(), TestTokens.NOW).orElseThrow().sealedDecision();
    a.onPacket(issuer, reply).orElseThrow();
    assertThat(a.agreedLanes()).isEqualTo(1);
    // A claimant that predates lanes: its claim has no field.
    ClaimGate g = gate(8);
    g.onPacket(alice, claimant(1).sealedClaim(), TestTokens.NOW).orElseThrow();
    assertThat(g.agreedLanes()).isEqualTo(1);
  }

  @Test
  void theParsersOfThePeersBeforeLanesIgnoreTheField() throws ClaimException {
    Claimant a = claimant(5);
    byte[] json = open(keys.claimKey(), a.sealedClaim());
    assertThat(new String(json, StandardCharsets.UTF_8)).contains("\"lanes\":5");
    assertThat(Claim.parse(json)).isEqualTo(a.claim());
    byte[] decision = LaneOffer.withLanes(Decision.accept(a.claim().nonce(), List.of("198.51.100.4:1")).toJson(), 5);
    assertThat(Decision.parse(decision)).isEqualTo(Decision.accept(a.claim().nonce(), List.of("198.51.100.4:1")));
  }

  @Test
  void aHostileCountMeansOneLane() {
    for (String bad : List.of("0", "17", "-3", "\"4\"", "4.5", "99999999999")) {
      byte[] json = ("{\"x\":1,\"lanes\":" + bad + "}").getBytes(StandardCharsets.UTF_8);
      assertThat(LaneOffer.lanesOf(json)).as(bad).isEqualTo(1);
    }
    assertThat(LaneOffer.lanesOf("{\"lanes\":16}".getBytes(StandardCharsets.UTF_8))).isEqualTo(16);
  }
}
