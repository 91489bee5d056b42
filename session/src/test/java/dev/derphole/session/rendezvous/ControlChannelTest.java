package dev.derphole.session.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.session.claim.SessionKeys;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Sealed control messages between the two peers. */
class ControlChannelTest {
  private static final byte[] SESSION = new byte[16];
  private static final SessionKeys KEYS = SessionKeys.derive(filled(32, 7), SESSION);
  private final NodePublicKey issuerKey = NodePrivateKey.generate().publicKey();
  private final NodePublicKey claimantKey = NodePrivateKey.generate().publicKey();

  private static byte[] filled(int n, int value) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) value);
    return b;
  }

  @Test
  void anAbortReasonArrivesEscapedAndBounded() {
    ControlChannel issuer = new ControlChannel(KEYS, SESSION, true, claimantKey);
    ControlChannel claimant = new ControlChannel(KEYS, SESSION, false, issuerKey);
    assertThat(claimant.onPacket(issuerKey, issuer.abort("bye\u001b]52;c;aGk=\u0007\u009b2J\u202e")))
        .contains(new ControlChannel.Abort("bye\\x1b]52;c;aGk=\\x07\\x9b2J\\u202e"));
    assertThat(claimant.onPacket(issuerKey, issuer.abort("y".repeat(5000))))
        .contains(new ControlChannel.Abort("y".repeat(200)));
  }

  @Test
  void laneCandidatesCarryTheirLaneAndABoundedList() {
    ControlChannel issuer = new ControlChannel(KEYS, SESSION, true, claimantKey);
    ControlChannel claimant = new ControlChannel(KEYS, SESSION, false, issuerKey);
    assertThat(claimant.onPacket(issuerKey, issuer.laneCandidates(3, java.util.List.of("192.0.2.1:5"))))
        .contains(new ControlChannel.LaneCandidates(3, java.util.List.of("192.0.2.1:5")));
    java.util.List<String> many = java.util.stream.IntStream.range(0, 500).mapToObj(i -> "192.0.2.1:" + (i + 1)).toList();
    assertThat(claimant.onPacket(issuerKey, issuer.laneCandidates(2, many)).orElseThrow())
        .isInstanceOfSatisfying(ControlChannel.LaneCandidates.class, m -> assertThat(m.candidates()).hasSize(ControlChannel.MAX_CANDIDATES));
    // Lane 0 is the session's own path, and there are at most 16 lanes: anything else is ignored.
    assertThat(claimant.onPacket(issuerKey, issuer.laneCandidates(0, many))).isEmpty();
    assertThat(claimant.onPacket(issuerKey, issuer.laneCandidates(16, many))).isEmpty();
  }
}
