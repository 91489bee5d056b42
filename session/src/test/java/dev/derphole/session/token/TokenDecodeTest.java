package dev.derphole.session.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every decode outcome, with the exact one-line message a user sees. */
class TokenDecodeTest {
  private static final Instant NOW = TestTokens.NOW;

  @Test
  void issuedTokenRoundTripsAndLastsAnHour() throws TokenException {
    Instant now = NOW.plusMillis(1234);
    Token token = Token.issue(Capability.STREAM, TestTokens.derpKey(7), TestTokens.tlsKey(),
        RelayHint.region(900), now);

    assertThat(token.expires()).isEqualTo(NOW.plusSeconds(3601)); // 01:00:01.234, whole seconds
    assertThat(Token.decode(token.encode(), now)).isEqualTo(token);
    assertThat(Token.decodeFor(token.encode(), Capability.STREAM, now)).isEqualTo(token);
    assertThat(Token.issue(Capability.STREAM, TestTokens.derpKey(7), token.issuerTlsKey(),
            RelayHint.region(900), now).sessionId())
        .isNotEqualTo(token.sessionId());
  }

  @Test
  void whitespaceAroundAndInsideIsIgnored() throws TokenException {
    String text = TestTokens.issue(Capability.SHARE).encode();
    StringBuilder wrapped = new StringBuilder("  \t");
    for (int i = 0; i < text.length(); i += 40) {
      wrapped.append(text, i, Math.min(text.length(), i + 40)).append(i % 80 == 0 ? "\r\n" : "\n");
    }
    wrapped.append('\u00a0'); // a no-break space from a web page

    assertThat(Token.decode(wrapped.toString(), NOW)).isEqualTo(Token.decode(text, NOW));
  }

  @Test
  void paddingIsTolerated() throws TokenException {
    String text = TokenGoldenTest.CUSTOM_TEXT; // 188 bytes: base64 would pad with "="
    assertThat(Token.decode(text + "=", NOW)).isEqualTo(TokenGoldenTest.customToken());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "hello world", "7-purple-sausages", "dhoB", "dh", "d",
      "bm90IGEgdG9rZW4gYXQgYWxs", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "dhoB+AAA/AAA"})
  void somethingElseIsNotAToken(String text) {
    assertReason(text, TokenException.Reason.NOT_A_TOKEN, "that is not a derphole token");
  }

  @Test
  void hugeInputIsNotAToken() {
    assertReason("A".repeat(1_000_000), TokenException.Reason.NOT_A_TOKEN,
        "that is not a derphole token");
  }

  @Test
  void damageIsCorrupted() {
    String text = TokenGoldenTest.REGION_TEXT;
    String corrupted = "the token is corrupted (checksum mismatch); copy it again";
    // one character changed in the bearer secret
    int i = 150;
    char other = text.charAt(i) == 'A' ? 'B' : 'A';
    assertReason(text.substring(0, i) + other + text.substring(i + 1),
        TokenException.Reason.CORRUPTED, corrupted);
    // the last characters lost in copying
    for (int lost = 1; lost <= 8; lost++) {
      assertReason(text.substring(0, text.length() - lost), TokenException.Reason.CORRUPTED,
          corrupted);
    }
    // one character lost in the middle
    assertReason(text.substring(0, 100) + text.substring(101), TokenException.Reason.CORRUPTED,
        corrupted);
  }

  @Test
  void aSecondSpellingOfTheLastCharacterIsCorrupted() {
    // 188 bytes end in a character with two unused low bits; "E" (000100) and "F" (000101) both
    // decode to the same bytes, but only the one the token prints as is accepted.
    String text = TokenGoldenTest.CUSTOM_TEXT;
    assertThat(text).endsWith("E");
    assertReason(text.substring(0, text.length() - 1) + "F", TokenException.Reason.CORRUPTED,
        "the token is corrupted (checksum mismatch); copy it again");
  }

  @Test
  void aNewerVersionWithAGoodChecksumIsUnsupported() {
    byte[] bytes = goldenBytes();
    bytes[2] = 3;
    assertReason(text(resealed(bytes)), TokenException.Reason.UNSUPPORTED_VERSION,
        "this token is version 3; this derphole understands versions 1 to 2");
    // Newer versions may be laid out differently: judged before any field is read.
    assertReason(text(resealed(new byte[] {0x76, 0x1A, 7, 0, 0, 0, 0})),
        TokenException.Reason.UNSUPPORTED_VERSION,
        "this token is version 7; this derphole understands versions 1 to 2");
  }

  @Test
  void fieldsInconsistentUnderAGoodChecksumAreCorrupted() {
    byte[] golden = goldenBytes();
    // one extra byte before the checksum
    byte[] longer = new byte[golden.length + 1];
    System.arraycopy(golden, 0, longer, 0, golden.length - 4);
    assertCorruptedAfterResealing(longer);
    // one byte missing
    byte[] shorter = new byte[golden.length - 1];
    System.arraycopy(golden, 0, shorter, 0, golden.length - 5);
    assertCorruptedAfterResealing(shorter);
    // an expiry beyond what Instant can hold
    byte[] farFuture = goldenBytes();
    ByteBuffer.wrap(farFuture, 20, 8).putLong(Long.MAX_VALUE);
    assertCorruptedAfterResealing(farFuture);
    // unknown capability
    byte[] b = goldenBytes();
    b[3] = 9;
    assertCorruptedAfterResealing(b);
    // TLS key that is not a compressed point
    b = goldenBytes();
    b[62] = 0x04;
    assertCorruptedAfterResealing(b);
    // a TLS or STUN-port flag without a custom relay
    b = goldenBytes();
    b[TokenCodec.FLAGS_OFFSET] = TokenCodec.FLAG_TLS;
    assertCorruptedAfterResealing(b);
    b[TokenCodec.FLAGS_OFFSET] = TokenCodec.FLAG_STUN;
    assertCorruptedAfterResealing(b);
    // a reserved relay flag (bits 5-7) on a custom relay whose fields are all there
    for (int bit = 5; bit <= 7; bit++) {
      b = TokenCodec.encode(TokenGoldenTest.customToken());
      b[TokenCodec.FLAGS_OFFSET] |= (byte) (1 << bit);
      assertCorruptedAfterResealing(b);
    }
  }

  @Test
  void customRelayFieldsAreChecked() {
    byte[] golden = TokenCodec.encode(TokenGoldenTest.customToken());
    int host = TokenCodec.FLAGS_OFFSET + 2;
    byte[] b = golden.clone();
    b[host] = ' '; // " erp.example.net"
    assertCorruptedAfterResealing(b);
    b = golden.clone();
    b[host + 16] = 0; // port 0
    b[host + 17] = 0;
    assertCorruptedAfterResealing(b);
    b = golden.clone();
    b[host + 18 + 32] = 5; // address length 5
    assertCorruptedAfterResealing(b);
    b = golden.clone();
    b[TokenCodec.FLAGS_OFFSET] = TokenCodec.FLAG_CUSTOM | TokenCodec.FLAG_PIN; // pin without TLS
    assertCorruptedAfterResealing(b);
  }

  @ParameterizedTest(name = "{0} s after expiry: {1}")
  @CsvSource({
    "0, the token expired less than a second ago",
    "1, the token expired 1 second ago",
    "59, the token expired 59 seconds ago",
    "60, the token expired 1 minute ago",
    "90, the token expired 1 minute ago",
    "119, the token expired 1 minute ago",
    "720, the token expired 12 minutes ago",
    "3599, the token expired 59 minutes ago",
    "3600, the token expired 1 hour ago",
    "10800, the token expired 3 hours ago",
    "86399, the token expired 23 hours ago",
    "86400, the token expired 1 day ago",
    "172800, the token expired 2 days ago",
    "200000, the token expired 2 days ago",
  })
  void expiredSaysHowLongAgo(long secondsAfter, String message) {
    Token token = TokenGoldenTest.regionToken();
    Instant now = token.expires().plusSeconds(secondsAfter);
    assertThatThrownBy(() -> Token.decode(token.encode(), now))
        .isInstanceOfSatisfying(TokenException.class,
            e -> assertThat(e.reason()).isEqualTo(TokenException.Reason.EXPIRED))
        .hasMessage(message);
  }

  @Test
  void stillValidASecondBeforeExpiry() throws TokenException {
    Token token = TokenGoldenTest.regionToken();
    assertThat(Token.decode(token.encode(), token.expires().minusSeconds(1))).isEqualTo(token);
    assertThat(Token.decode(token.encode(), token.expires().minusNanos(1))).isEqualTo(token);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "SHARE  | STREAM | this token is for `derphole open`, not `derphole pipe`",
    "STREAM | OFFER  | this token is for `derphole pipe`, not `derphole receive`",
    "SSH    | TUNNEL | this token is for `derphole ssh accept`, not `derptun open/connect`",
  })
  void wrongCapabilityNamesBothCommands(Capability actual, Capability wanted, String message) {
    String text = TestTokens.issue(actual).encode();
    assertThatThrownBy(() -> Token.decodeFor(text, wanted, NOW))
        .isInstanceOfSatisfying(TokenException.class,
            e -> assertThat(e.reason()).isEqualTo(TokenException.Reason.WRONG_CAPABILITY))
        .hasMessage(message);
  }

  @Test
  void expiryIsJudgedBeforeCapability() {
    Token token = TestTokens.issue(Capability.SHARE);
    assertThatThrownBy(
            () -> Token.decodeFor(token.encode(), Capability.STREAM, NOW.plus(Duration.ofDays(1))))
        .hasMessage("the token expired 23 hours ago");
  }

  @Test
  void toStringHidesTheBearerSecret() {
    Token token = TokenGoldenTest.regionToken();
    String hex = HexFormat.of().formatHex(token.bearerSecret());
    String shown = token.toString();

    assertThat(shown)
        .contains("redacted")
        .contains("share")
        .doesNotContain(hex)
        .doesNotContain(hex.substring(0, 8))
        .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(token.bearerSecret()))
        .doesNotContain(token.encode());
  }

  @Test
  void accessorsReturnCopies() {
    Token token = TokenGoldenTest.regionToken();
    token.bearerSecret()[0] ^= 1;
    token.sessionId()[0] ^= 1;
    token.issuerTlsKey()[1] ^= 1;
    assertThat(token).isEqualTo(TokenGoldenTest.regionToken());
  }

  private static byte[] goldenBytes() {
    return HexFormat.of().parseHex(TokenGoldenTest.REGION_HEX);
  }

  /** Replaces the last four bytes with a correct checksum. */
  static byte[] resealed(byte[] bytes) {
    byte[] sealed = TokenText.seal(Arrays.copyOf(bytes, bytes.length - TokenText.CHECKSUM_LENGTH));
    System.arraycopy(sealed, 0, bytes, 0, bytes.length);
    return bytes;
  }

  private static String text(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static void assertCorruptedAfterResealing(byte[] bytes) {
    assertReason(text(resealed(bytes)), TokenException.Reason.CORRUPTED,
        "the token is corrupted (checksum mismatch); copy it again");
  }

  private static void assertReason(String text, TokenException.Reason reason, String message) {
    assertThatThrownBy(() -> Token.decode(text, NOW))
        .isInstanceOfSatisfying(TokenException.class, e -> assertThat(e.reason()).isEqualTo(reason))
        .hasMessage(message);
  }
}
