package dev.derphole.session.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.derp.key.NodePublicKey;
import java.time.Instant;
import java.util.HexFormat;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * Golden vectors for the binary form, versions 1 and 2. The checksums were computed with an independent
 * bitwise CRC-32C (reflected polynomial 0x82F63B78; check value of "123456789" = e3069283).
 */
class TokenGoldenTest {
  private static final HexFormat HEX = HexFormat.of();

  /** Session 00..0f, expiring 2026-01-01T01:00:00Z, region 1, DERP key 20..3f, bearer a0..bf. */
  static Token regionToken() {
    return new Token(
        1,
        Capability.SHARE,
        HEX.parseHex("000102030405060708090a0b0c0d0e0f"),
        Instant.parse("2026-01-01T01:00:00Z"),
        NodePublicKey.fromRaw(
            HEX.parseHex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")),
        TestTokens.GENERATOR_TLS_KEY,
        HEX.parseHex("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"),
        RelayHint.region(1));
  }

  static final String REGION_HEX =
      "761a" // magic
          + "01" // version 1
          + "03" // capability SHARE
          + "000102030405060708090a0b0c0d0e0f" // session id
          + "000000006955c710" // expires 1767229200 = 2026-01-01T01:00:00Z
          + "0001" // DERP region 1
          + "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" // issuer DERP key
          + "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" // TLS key (G)
          + "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" // bearer secret
          + "00" // relay flags: no custom relay
          + "c0b4f422"; // CRC-32C of the 128 bytes before

  static final String REGION_TEXT =
      "dhoBAwABAgMEBQYHCAkKCwwNDg8AAAAAaVXHEAABICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8DaxfR8u"
          + "EsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpagoaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2-"
          + "vwDAtPQi";

  static final String CUSTOM_TAIL_HEX =
      "0f" // relay flags: custom | TLS | pin | IP literal
          + "10" // host length 16
          + "646572702e6578616d706c652e6e6574" // "derp.example.net"
          + "20fb" // port 8443
          + "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0" // certificate pin
          + "04" + "c000020a" // IPv4 192.0.2.10
          + "f8aee931"; // CRC-32C

  static final String CUSTOM_TEXT =
      "dhoBAwABAgMEBQYHCAkKCwwNDg8AAAAAaVXHEAABICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8DaxfR8u"
          + "EsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpagoaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2-vw8QZGVycC"
          + "5leGFtcGxlLm5ldCD7wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMAEwAACCviu6TE";

  static final String STUN_TAIL_HEX =
      "1f" // relay flags: custom | TLS | pin | IP literal | STUN port
          + "10" // host length 16
          + "646572702e6578616d706c652e6e6574" // "derp.example.net"
          + "20fb" // port 8443
          + "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0" // certificate pin
          + "04" + "c000020a" // IPv4 192.0.2.10
          + "0d96" // STUN port 3478
          + "071617e1"; // CRC-32C

  static final String STUN_TEXT =
      "dhoBAwABAgMEBQYHCAkKCwwNDg8AAAAAaVXHEAABICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8DaxfR8u"
          + "EsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpagoaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2-vx8QZGVycC"
          + "5leGFtcGxlLm5ldCD7wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMAEwAACCg2WBxYX4Q";

  static Token customToken() {
    return withRelay(TestTokens.fullCustomRelay());
  }

  /** The custom-relay token whose relay also runs STUN on UDP 3478. */
  static Token stunToken() {
    CustomRelay c = TestTokens.fullCustomRelay();
    return withRelay(new CustomRelay(c.host(), c.port(), c.tls(), c.certSha256(), c.ipLiteral(),
        OptionalInt.of(3478)));
  }

  private static Token withRelay(CustomRelay relay) {
    Token t = regionToken();
    return new Token(
        t.version(),
        t.capability(),
        t.sessionId(),
        t.expires(),
        t.issuerDerpKey(),
        t.issuerTlsKey(),
        t.bearerSecret(),
        RelayHint.custom(1, relay));
  }

  @Test
  void regionTokenMatchesTheVector() throws TokenException {
    assertThat(HEX.formatHex(TokenCodec.encode(regionToken()))).isEqualTo(REGION_HEX);
    assertThat(regionToken().encode()).isEqualTo(REGION_TEXT).hasSize(176).startsWith("dhoB");
    assertThat(Token.decode(REGION_TEXT, TestTokens.NOW)).isEqualTo(regionToken());
  }

  @Test
  void customRelayTokenMatchesTheVector() throws TokenException {
    byte[] bytes = TokenCodec.encode(customToken());
    assertThat(HEX.formatHex(bytes, 0, TokenCodec.FLAGS_OFFSET))
        .isEqualTo(REGION_HEX.substring(0, 2 * TokenCodec.FLAGS_OFFSET));
    assertThat(HEX.formatHex(bytes, TokenCodec.FLAGS_OFFSET, bytes.length))
        .isEqualTo(CUSTOM_TAIL_HEX);
    assertThat(customToken().encode()).isEqualTo(CUSTOM_TEXT);
    assertThat(Token.decode(CUSTOM_TEXT, TestTokens.NOW)).isEqualTo(customToken());
  }

  @Test
  void stunPortTokenMatchesTheVector() throws TokenException {
    byte[] bytes = stunToken().toBytes();
    assertThat(HEX.formatHex(bytes, 0, TokenCodec.FLAGS_OFFSET))
        .isEqualTo(REGION_HEX.substring(0, 2 * TokenCodec.FLAGS_OFFSET));
    assertThat(HEX.formatHex(bytes, TokenCodec.FLAGS_OFFSET, bytes.length))
        .isEqualTo(STUN_TAIL_HEX);
    assertThat(Token.fromBytes(bytes)).isEqualTo(stunToken());
    assertThat(stunToken().encode()).isEqualTo(STUN_TEXT);
    assertThat(Token.decode(STUN_TEXT, TestTokens.NOW)).isEqualTo(stunToken());
    assertThat(Token.decode(STUN_TEXT, TestTokens.NOW).relay().custom().orElseThrow().stunPort())
        .hasValue(3478);
  }

  @Test
  void verificationCodeIsPinned() {
    assertThat(regionToken().verificationCode())
        .matches("[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}");
    // Checked with Python: SHA-256(label ‖ REGION_HEX bytes), top 60 bits, Crockford base32.
    assertThat(regionToken().verificationCode()).isEqualTo("CMFA-F99C-ZZA1");
  }

  /** Version 2: version 1's layout, for the one capability it added. */
  static Token receiveToken() {
    Token t = regionToken();
    return new Token(2, Capability.RECEIVE, t.sessionId(), t.expires(), t.issuerDerpKey(), t.issuerTlsKey(),
        t.bearerSecret(), t.relay());
  }

  static final String RECEIVE_HEX =
      "761a" // magic
          + "02" // version 2
          + "06" // capability RECEIVE
          + REGION_HEX.substring(8, 2 * TokenCodec.FLAGS_OFFSET + 2) // the same fields as REGION_HEX
          + "9388dd8c"; // CRC-32C of the 128 bytes before

  static final String RECEIVE_TEXT =
      "dhoCBgABAgMEBQYHCAkKCwwNDg8AAAAAaVXHEAABICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8DaxfR8u"
          + "EsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpagoaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2-"
          + "vwCTiN2M";

  @Test
  void receiveTokenIsVersion2AndMatchesTheVector() throws TokenException {
    assertThat(HEX.formatHex(TokenCodec.encode(receiveToken()))).isEqualTo(RECEIVE_HEX);
    assertThat(receiveToken().encode()).isEqualTo(RECEIVE_TEXT).hasSize(176).startsWith("dhoC");
    assertThat(Token.decode(RECEIVE_TEXT, TestTokens.NOW)).isEqualTo(receiveToken());
    // Checked with Python, as for the region token.
    assertThat(receiveToken().verificationCode()).isEqualTo("B4D0-WVT8-DB2J");
    // Issued tokens take their capability's version; the older capabilities stay version 1.
    assertThat(Token.issue(Capability.RECEIVE, regionToken().issuerDerpKey(), TestTokens.GENERATOR_TLS_KEY,
        RelayHint.region(1), TestTokens.NOW).version()).isEqualTo(2);
    assertThat(Token.issue(Capability.OFFER, regionToken().issuerDerpKey(), TestTokens.GENERATOR_TLS_KEY,
        RelayHint.region(1), TestTokens.NOW).encode()).startsWith("dhoB");
  }

  @Test
  void aCapabilityInAnotherVersionThanItsOwnIsCorrupted() {
    // RECEIVE as version 1, SHARE as version 2, each with a good checksum (computed with Python).
    for (String text : new String[] {
        "dhoBBgABAgMEBQYHCAkKCwwNDg8AAAAAaVXHEAABICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8DaxfR8u"
            + "EsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpagoaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2-vwARzWpT",
        "dhoCAwABAgMEBQYHCAkKCwwNDg8AAAAAaVXHEAABICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8DaxfR8u"
            + "EsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpagoaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2-vwBC8UP9"}) {
      assertThatThrownBy(() -> Token.decode(text, TestTokens.NOW))
          .isInstanceOfSatisfying(TokenException.class,
              e -> assertThat(e.reason()).isEqualTo(TokenException.Reason.CORRUPTED));
    }
  }
}
