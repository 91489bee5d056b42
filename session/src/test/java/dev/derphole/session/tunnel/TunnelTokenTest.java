package dev.derphole.session.tunnel;

import dev.derphole.session.token.TokenException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.derphole.session.token.Capability;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.TestTokens;
import dev.derphole.session.token.TokenException.Reason;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The three derptun token kinds: prefixes, who may use which, expiry rules, damage and tampering. */
class TunnelTokenTest {
  static final Instant NOW = TestTokens.NOW;
  static final RelayHint RELAY = RelayHint.custom(900, TestTokens.fullCustomRelay());

  static ServerToken server(Duration life) {
    return ServerToken.create(TokenKind.SERVER, RELAY, NOW.plus(life));
  }

  @Test
  void eachKindHasItsOwnPrefix() throws Exception {
    ServerToken s = server(Duration.ofDays(180));
    assertThat(s.encode()).startsWith("dts1_");
    assertThat(s.mintClient(NOW.plus(Duration.ofDays(7)), NOW).encode()).startsWith("dtc1_");
    assertThat(ServerToken.create(TokenKind.SHARED, RELAY, NOW.plus(Duration.ofDays(7))).encode()).startsWith("dtt1_");
  }

  @Test
  void aServerTokenRoundTripsWithItsKeys() throws Exception {
    ServerToken s = server(Duration.ofDays(180));
    ServerToken back = ServerToken.decodeForServe(s.encode(), "derptun serve", NOW);
    assertThat(back).isEqualTo(s);
    assertThat(back.derpKey().publicKey()).isEqualTo(s.derpKey().publicKey());
    assertThat(back.tlsIdentity().publicKey()).isEqualTo(s.rendezvous().issuerTlsKey());
    assertThat(back.relay()).isEqualTo(RELAY);
    assertThat(back.rendezvous().capability()).isEqualTo(Capability.TUNNEL);
  }

  @Test
  void aClientTokenCarriesTheServersPublicKeysAndRelayButNoSecret() throws Exception {
    ServerToken s = server(Duration.ofDays(180));
    ClientToken c = ClientToken.decodeForConnect(s.mintClient(NOW.plus(Duration.ofDays(7)), NOW).encode(), "derptun open", NOW);
    assertThat(c.session().issuerDerpKey()).isEqualTo(s.derpKey().publicKey());
    assertThat(c.session().issuerTlsKey()).isEqualTo(s.rendezvous().issuerTlsKey());
    assertThat(c.session().relay()).isEqualTo(RELAY);
    assertThat(c.expires()).isEqualTo(NOW.plus(Duration.ofDays(7)));
    byte[] text = c.encode().getBytes();
    assertThat(new String(text)).doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(s.derpKey().raw()));
    // The client's bearer is what the server derives for it; nothing else about the server's secret is in it.
    assertThat(c.session().bearerSecret()).isEqualTo(s.clientSession(c.clientId(), c.expires()).bearerSecret());
    assertThat(s.verifies(c.clientId(), c.expires(), c.proof())).isTrue();
  }

  @Test
  void aServerTokenGivenToOpenSaysWhichKindWasExpected() {
    ServerToken s = server(Duration.ofDays(180));
    TokenException e = catchThrowableOfType(
        () -> ClientToken.decodeForConnect(s.encode(), "derptun open", NOW), TokenException.class);
    assertThat(e.reason()).isEqualTo(Reason.WRONG_KIND);
    assertThat(e.getMessage()).contains("server token").contains("`derptun open` needs a client token");
  }

  @Test
  void aClientTokenGivenToServeSaysWhichKindWasExpected() throws Exception {
    String client = server(Duration.ofDays(180)).mintClient(NOW.plus(Duration.ofDays(1)), NOW).encode();
    TokenException e = catchThrowableOfType(
        () -> ServerToken.decodeForServe(client, "derptun serve", NOW), TokenException.class);
    assertThat(e.reason()).isEqualTo(Reason.WRONG_KIND);
    assertThat(e.getMessage()).contains("client token").contains("`derptun serve` needs the server token");
  }

  @Test
  void aSharedTokenServesAndConnects() throws Exception {
    ServerToken shared = ServerToken.create(TokenKind.SHARED, RELAY, NOW.plus(Duration.ofDays(7)));
    ServerToken asServer = ServerToken.decodeForServe(shared.encode(), "derptun serve", NOW);
    ClientToken asClient = ClientToken.decodeForConnect(shared.encode(), "derptun connect", NOW);
    assertThat(asClient.kind()).isEqualTo(TokenKind.SHARED);
    assertThat(asClient.expires()).isEqualTo(shared.expires());
    assertThat(asServer.verifies(asClient.clientId(), asClient.expires(), asClient.proof())).isTrue();
  }

  @Test
  void expiredTokensAreRefusedWithHowLongAgo() throws Exception {
    ServerToken s = server(Duration.ofDays(2));
    String client = s.mintClient(NOW.plus(Duration.ofDays(1)), NOW).encode();
    Instant later = NOW.plus(Duration.ofDays(3));
    TokenException se = catchThrowableOfType(
        () -> ServerToken.decodeForServe(s.encode(), "derptun serve", later), TokenException.class);
    assertThat(se.reason()).isEqualTo(Reason.EXPIRED);
    assertThat(se.getMessage()).isEqualTo("the server token expired 1 day ago");
    TokenException ce = catchThrowableOfType(
        () -> ClientToken.decodeForConnect(client, "derptun open", later), TokenException.class);
    assertThat(ce.getMessage()).isEqualTo("the client token expired 2 days ago");
  }

  @Test
  void aClientTokenCannotOutliveItsServerToken() {
    ServerToken s = server(Duration.ofDays(10));
    TokenException e = catchThrowableOfType(
        () -> s.mintClient(NOW.plus(Duration.ofDays(11)), NOW), TokenException.class);
    assertThat(e.reason()).isEqualTo(Reason.BAD_EXPIRY);
    assertThat(e.getMessage()).contains("cannot outlive its server token");
  }

  @Test
  void anExpiredServerTokenMintsNothing() {
    ServerToken s = server(Duration.ofDays(1));
    TokenException e = catchThrowableOfType(
        () -> s.mintClient(NOW.plus(Duration.ofDays(3)), NOW.plus(Duration.ofDays(2))), TokenException.class);
    assertThat(e.reason()).isEqualTo(Reason.EXPIRED);
  }

  @Test
  void aClientThatEditsItsExpiryFailsTheProof() throws Exception {
    ServerToken s = server(Duration.ofDays(180));
    ClientToken c = s.mintClient(NOW.plus(Duration.ofDays(7)), NOW);
    assertThat(s.verifies(c.clientId(), NOW.plus(Duration.ofDays(70)), c.proof())).isFalse();
    byte[] otherId = c.clientId();
    otherId[0] ^= 1;
    assertThat(s.verifies(otherId, c.expires(), c.proof())).isFalse();
    ServerToken other = server(Duration.ofDays(180));
    assertThat(other.verifies(c.clientId(), c.expires(), c.proof())).isFalse();
  }

  @Test
  void damageIsCorruptedAndOtherTextIsNotAToken() throws Exception {
    String t = server(Duration.ofDays(1)).encode();
    char c = t.charAt(40);
    String damaged = t.substring(0, 40) + (c == 'A' ? 'B' : 'A') + t.substring(41);
    assertThat(reason(damaged)).isEqualTo(Reason.CORRUPTED);
    assertThat(reason(t.substring(0, t.length() - 3))).isEqualTo(Reason.CORRUPTED);
    assertThat(reason("dtx1_" + t.substring(5))).isEqualTo(Reason.NOT_A_TOKEN);
    assertThat(reason("hello")).isEqualTo(Reason.NOT_A_TOKEN);
    assertThat(reason("dhoBAAAA")).isEqualTo(Reason.NOT_A_TOKEN);
    // The body of a server token behind a client prefix: the letters disagree.
    assertThat(reason("dtc1_" + t.substring(5))).isEqualTo(Reason.CORRUPTED);
    // Line breaks and spaces from copying are ignored.
    assertThat(ServerToken.decodeForServe(t.substring(0, 50) + "\n  " + t.substring(50), "x", NOW).encode()).isEqualTo(t);
  }

  @Test
  void aNewerVersionIsUnsupportedNotCorrupted() {
    byte[] body = new byte[10];
    String text = TunnelTokenText.encode(TokenKind.SERVER, body);
    byte[] bin = Base64.getUrlDecoder().decode(text.substring(5));
    bin[1] = 2;
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(bin, 0, bin.length - 4);
    ByteBuffer.wrap(bin).putInt(bin.length - 4, (int) crc.getValue());
    String v2 = "dts2_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bin);
    TokenException e = catchThrowableOfType(() -> TunnelTokenText.decode(v2), TokenException.class);
    assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_VERSION);
  }

  @Test
  void messagesNeverContainTheToken() {
    String t = server(Duration.ofDays(1)).encode();
    for (String bad : new String[] {t.substring(0, 60), "dtc1_" + t.substring(5), t.replace('A', 'B')}) {
      TokenException e = catchThrowableOfType(() -> ClientToken.decodeForConnect(bad, "derptun open", NOW),
          TokenException.class);
      assertThat(e).isNotNull();
      assertThat(e.getMessage()).doesNotContain(t.substring(5, 25));
    }
    assertThat(server(Duration.ofDays(1)).toString()).doesNotContain("dts1_").contains("redacted");
  }

  private static Reason reason(String text) {
    TokenException e = catchThrowableOfType(() -> ServerToken.decodeForServe(text, "derptun serve", NOW),
        TokenException.class);
    assertThat(e).as("decoding must fail").isNotNull();
    return e.reason();
  }
}
