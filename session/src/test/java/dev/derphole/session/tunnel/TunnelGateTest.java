package dev.derphole.session.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.claim.Claimant;
import dev.derphole.session.claim.Decision;
import dev.derphole.session.claim.Envelope;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.TestTokens;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The server's multi-client gate with real keys: every authenticated client is accepted, each
 * check at claim time refuses with its own sealed answer, and anything unauthenticated gets none.
 */
class TunnelGateTest {
  static final Instant NOW = TestTokens.NOW;
  final ServerToken server = ServerToken.create(TokenKind.SERVER, RelayHint.region(1), NOW.plus(Duration.ofDays(30)));
  final TunnelGate gate = new TunnelGate(server, false);

  record Sent(NodePublicKey from, byte[] packet, Claimant claimant, ClientToken client) {}

  Sent claim(ClientToken client) {
    NodePublicKey me = NodePrivateKey.generate().publicKey();
    Claimant c = new Claimant(client.session(), me, TestTokens.tlsKey(), List.of(), NOW);
    return new Sent(me, TunnelClaimPacket.wrap(client, c.sealedClaim()), c, client);
  }

  Decision answer(Sent s, Instant at) throws Exception {
    TunnelGate.Outcome o = gate.onPacket(s.from(), s.packet(), at).orElseThrow();
    Envelope.Opened opened = Envelope.open(SessionKeys.of(s.client().session()).decisionKey(),
        s.client().session().sessionId(), o.sealedDecision()).orElseThrow();
    Decision d = Decision.parse(opened.plaintext());
    assertThat(d.claimNonce()).isEqualTo(s.claimant().claim().nonce());
    return d;
  }

  @Test
  void twoClientsAreBothAcceptedAndARetryIsTheSameAccept() throws Exception {
    Sent alice = claim(server.mintClient(NOW.plus(Duration.ofDays(7)), NOW));
    Sent bob = claim(server.mintClient(NOW.plus(Duration.ofDays(1)), NOW));
    TunnelGate.Outcome a = gate.onPacket(alice.from(), alice.packet(), NOW).orElseThrow();
    TunnelGate.Outcome b = gate.onPacket(bob.from(), bob.packet(), NOW).orElseThrow();
    assertThat(a.accepted()).isPresent();
    assertThat(b.accepted()).isPresent();
    assertThat(a.identity()).isNotEqualTo(b.identity());
    TunnelGate.Outcome again = gate.onPacket(alice.from(), alice.packet(), NOW).orElseThrow();
    assertThat(again.accepted()).as("a retry is not a new client").isEmpty();
    assertThat(again.accept()).isTrue();
    assertThat(again.identity()).isEqualTo(a.identity());
  }

  @Test
  void aSharedTokenClaimsToo() throws Exception {
    ServerToken shared = ServerToken.create(TokenKind.SHARED, RelayHint.region(1), NOW.plus(Duration.ofDays(7)));
    TunnelGate g = new TunnelGate(shared, false);
    Sent s = claim(ClientToken.decodeForConnect(shared.encode(), "derptun open", NOW));
    assertThat(g.onPacket(s.from(), s.packet(), NOW).orElseThrow().accepted()).isPresent();
  }

  @Test
  void anEditedExpiryFailsTheProof() throws Exception {
    ClientToken real = server.mintClient(NOW.plus(Duration.ofDays(1)), NOW);
    Instant forged = NOW.plus(Duration.ofDays(20));
    ClientToken edited = new ClientToken(TokenKind.CLIENT, real.proof(), server.clientSession(real.clientId(), forged));
    Decision d = answer(claim(edited), NOW);
    assertThat(d.accepted()).isFalse();
    assertThat(d.rejectCode()).isEqualTo("bad_proof");
    assertThat(d.rejectReason()).contains("altered");
  }

  @Test
  void aClientTokenOutlivingTheServerTokenIsRefused() throws Exception {
    byte[] id = new byte[16];
    id[0] = 7;
    Instant tooLate = server.expires().plus(Duration.ofDays(1));
    ClientToken outliving = new ClientToken(TokenKind.CLIENT, Credentials.proof(
        serverSigning(), server.tunnelId(), id, tooLate), server.clientSession(id, tooLate));
    Decision d = answer(claim(outliving), NOW);
    assertThat(d.rejectCode()).isEqualTo("bad_expiry");
  }

  @Test
  void expiryIsCheckedAtEveryClaimForClientAndServer() throws Exception {
    Sent s = claim(server.mintClient(NOW.plus(Duration.ofDays(1)), NOW));
    Decision clientExpired = answer(s, NOW.plus(Duration.ofDays(2)));
    assertThat(clientExpired.rejectCode()).isEqualTo("expired");
    assertThat(clientExpired.rejectReason()).isEqualTo("the client token expired 1 day ago");
    Decision serverExpired = answer(s, NOW.plus(Duration.ofDays(31)));
    assertThat(serverExpired.rejectCode()).isEqualTo("server_expired");
  }

  @Test
  void whatDoesNotAuthenticateGetsNoAnswer() throws Exception {
    ClientToken real = server.mintClient(NOW.plus(Duration.ofDays(1)), NOW);
    Sent s = claim(real);
    // Another client id in the clear header: the claim no longer opens.
    byte[] p = s.packet().clone();
    p[3] ^= 1;
    assertThat(gate.onPacket(s.from(), p, NOW)).isEmpty();
    // A token of another server.
    ServerToken other = ServerToken.create(TokenKind.SERVER, RelayHint.region(1), NOW.plus(Duration.ofDays(30)));
    Sent foreign = claim(other.mintClient(NOW.plus(Duration.ofDays(1)), NOW));
    assertThat(gate.onPacket(foreign.from(), foreign.packet(), NOW)).isEmpty();
    // Replayed from another DERP key.
    assertThat(gate.onPacket(NodePrivateKey.generate().publicKey(), s.packet(), NOW)).isEmpty();
    // Not a tunnel claim at all.
    assertThat(gate.onPacket(s.from(), new byte[] {0, 1, 1, 2, 3}, NOW)).isEqualTo(Optional.empty());
  }

  private byte[] serverSigning() {
    return server.rendezvous().bearerSecret();
  }
}
