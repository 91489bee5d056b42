package dev.derphole.session.token;

import dev.derphole.derp.net.IpLiteral;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.HexFormat;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The small formats tokens carry: IP literals, custom relays, compressed P-256 keys. */
class AddressAndKeyFormatsTest {

  @ParameterizedTest
  @CsvSource({
    "1.2.3.4, 1.2.3.4",
    "255.255.255.255, 255.255.255.255",
    "2001:db8::1, 2001:db8::1",
    "2001:DB8:0:0:0:0:0:1, 2001:db8::1",
    "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1", // first of two equal runs
    "2001:0:0:1:0:0:0:1, 2001:0:0:1::1", // the longer run
    "2001:db8:1:1:1:1:0:1, 2001:db8:1:1:1:1:0:1", // one zero group stays 0
    "::, ::",
    "::1, ::1",
    "1::, 1::",
    "::ffff:1.2.3.4, 1.2.3.4", // IPv4-mapped comes back as IPv4
  })
  void literalsParseAndFormatCanonically(String text, String canonical) {
    Optional<InetAddress> parsed = IpLiteral.parse(text);
    assertThat(parsed).isPresent();
    assertThat(IpLiteral.format(parsed.get())).isEqualTo(canonical);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1.2.3.4 ", "1..2.3",
      "example.com", "localhost", "[::1]", "fe80::1%eth0", "::g", "1:2:3:4:5:6:7:8:9", ".:",
      "\u0661.2.3.4", "１.2.3.4"})
  void nonLiteralsDoNotParse(String text) {
    assertThat(IpLiteral.parse(text)).isEmpty();
  }

  @Test
  void customRelayChecksAndCanonicalizes() {
    CustomRelay relay = new CustomRelay("derp.example.net", 443, false, Optional.empty(),
        Optional.of("2001:DB8::0:1"));
    assertThat(relay.ipLiteral()).contains("2001:db8::1");
    assertThat(relay.toString()).isEqualTo("http://derp.example.net:443 via 2001:db8::1");

    byte[] pin = new byte[32];
    assertThatThrownBy(() -> new CustomRelay("h", 443, false, Optional.of(pin), Optional.empty()))
        .hasMessage("a relay certificate pin needs TLS");
    assertThatThrownBy(
            () -> new CustomRelay("h", 443, true, Optional.of(new byte[31]), Optional.empty()))
        .hasMessageContaining("32 bytes");
    assertThatThrownBy(() -> new CustomRelay("h", 0, true, Optional.empty(), Optional.empty()))
        .hasMessageContaining("port");
    for (String bad : new String[] {"", "a b", "-a.com", "a..b", "a/b", "é.com", "x".repeat(64)}) {
      assertThatThrownBy(() -> new CustomRelay(bad, 1, true, Optional.empty(), Optional.empty()))
          .as(bad)
          .hasMessageContaining("relay host");
    }
    assertThatThrownBy(
            () -> new CustomRelay("h", 1, true, Optional.empty(), Optional.of("derp.example")))
        .hasMessage("not an IP literal: derp.example");
  }

  @Test
  void customRelayEqualityComparesThePinBytes() {
    CustomRelay a = TestTokens.fullCustomRelay();
    CustomRelay b = TestTokens.fullCustomRelay();
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    a.certSha256().orElseThrow()[0] ^= 1; // a copy: the relay is unchanged
    assertThat(a).isEqualTo(b);
    byte[] other = b.certSha256().orElseThrow();
    other[0] ^= 1;
    assertThat(new CustomRelay(b.host(), b.port(), true, Optional.of(other), b.ipLiteral()))
        .isNotEqualTo(b);
  }

  @Test
  void relayHintRegionRange() {
    assertThat(RelayHint.region(0).regionId()).isZero();
    assertThat(RelayHint.region(65535).regionId()).isEqualTo(65535);
    assertThatThrownBy(() -> RelayHint.region(65536)).hasMessageContaining("0-65535");
    assertThatThrownBy(() -> RelayHint.region(-1)).hasMessageContaining("0-65535");
  }

  @Test
  void compressedKeysRoundTripThroughTheJdk() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    for (int i = 0; i < 20; i++) {
      ECPublicKey key = (ECPublicKey) g.generateKeyPair().getPublic();
      byte[] compressed = CompressedP256.compress(key);
      assertThat(compressed).hasSize(33);
      assertThat(CompressedP256.isValid(compressed)).isTrue();
      assertThat(CompressedP256.decompress(compressed).getW()).isEqualTo(key.getW());
    }
  }

  @Test
  void invalidPointsAreRefused() {
    byte[] g = TestTokens.GENERATOR_TLS_KEY.clone();
    assertThat(CompressedP256.isValid(g)).isTrue();
    byte[] uncompressedPrefix = g.clone();
    uncompressedPrefix[0] = 0x04;
    assertThat(CompressedP256.isValid(uncompressedPrefix)).isFalse();
    // x = p (the field prime) is not below p
    byte[] xIsP = HexFormat.of()
        .parseHex("02ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    assertThat(CompressedP256.isValid(xIsP)).isFalse();
    assertThat(CompressedP256.isValid(new byte[32])).isFalse();
    assertThat(CompressedP256.isValid(null)).isFalse();
    // Some x has no point: find one and check that it is refused.
    byte[] candidate = g.clone();
    boolean sawInvalid = false;
    for (int i = 0; i < 64 && !sawInvalid; i++) {
      candidate[32] = (byte) i;
      sawInvalid = !CompressedP256.isValid(candidate);
    }
    assertThat(sawInvalid).isTrue();
    assertThatThrownBy(() -> CompressedP256.decompress(xIsP))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tokenConstructorRefusesBadFields() {
    Token t = TokenGoldenTest.regionToken();
    assertThatThrownBy(() -> new Token(2, t.capability(), t.sessionId(), t.expires(),
            t.issuerDerpKey(), t.issuerTlsKey(), t.bearerSecret(), t.relay()))
        .hasMessageContaining("version");
    assertThatThrownBy(() -> new Token(1, t.capability(), new byte[15], t.expires(),
            t.issuerDerpKey(), t.issuerTlsKey(), t.bearerSecret(), t.relay()))
        .hasMessage("session id must be 16 bytes, got 15");
    assertThatThrownBy(() -> new Token(1, t.capability(), t.sessionId(), t.expires(),
            t.issuerDerpKey(), new byte[33], t.bearerSecret(), t.relay()))
        .hasMessageContaining("compressed P-256");
    assertThatThrownBy(() -> new Token(1, t.capability(), t.sessionId(), t.expires(),
            t.issuerDerpKey(), t.issuerTlsKey(), new byte[31], t.relay()))
        .hasMessage("bearer secret must be 32 bytes, got 31");
  }

  @Test
  void capabilityCodesAndNames() {
    for (Capability c : Capability.values()) {
      assertThat(Capability.of(c.code())).contains(c);
      assertThat(Capability.ofJsonName(c.jsonName())).contains(c);
    }
    assertThat(Capability.of(0)).isEmpty();
    assertThat(Capability.of(7)).isEmpty();
    assertThat(Capability.ofJsonName("SHARE")).isEmpty();
    assertThat(Capability.TUNNEL.issuerCommand()).isEqualTo("derptun serve");
  }
}
