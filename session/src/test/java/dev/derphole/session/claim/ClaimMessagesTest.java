package dev.derphole.session.claim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.TestTokens;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The claim and decision JSON: exact forms, round trips, and what counts as malformed. */
class ClaimMessagesTest {
  private static final byte[] NONCE = new byte[16];

  static {
    Arrays.fill(NONCE, (byte) 0x0F);
  }

  static Claim sampleClaim() {
    return new Claim(1, Capability.SHARE, TestTokens.derpKey(0xA1), TestTokens.GENERATOR_TLS_KEY,
        List.of("203.0.113.7:41641", "[2001:db8::7]:41641"), NONCE,
        Instant.parse("2026-01-01T00:00:00.900Z"));
  }

  static final String SAMPLE_CLAIM_JSON =
      "{\"version\":1,\"capability\":\"share\","
          + "\"claimant_derp_key\":\"nodekey:" + "a1".repeat(32) + "\","
          + "\"claimant_tls_key\":\"A2sX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKW\","
          + "\"candidates\":[\"203.0.113.7:41641\",\"[2001:db8::7]:41641\"],"
          + "\"nonce\":\"Dw8PDw8PDw8PDw8PDw8PDw\","
          + "\"created\":1767225600}";

  @Test
  void claimJsonIsExact() throws ClaimException {
    assertThat(utf8(sampleClaim().toJson())).isEqualTo(SAMPLE_CLAIM_JSON);
    assertThat(Claim.parse(bytes(SAMPLE_CLAIM_JSON))).isEqualTo(sampleClaim());
    assertThat(sampleClaim().created()).isEqualTo(Instant.ofEpochSecond(1_767_225_600L));
  }

  @Test
  void unknownFieldsAreIgnored() throws ClaimException {
    String json = SAMPLE_CLAIM_JSON.replace("{\"version\"", "{\"future\":[1,2],\"version\"");
    assertThat(Claim.parse(bytes(json))).isEqualTo(sampleClaim());
  }

  @Test
  void otherVersionsParseSoTheGateCanAnswerThem() throws ClaimException {
    String json = SAMPLE_CLAIM_JSON.replace("\"version\":1", "\"version\":2");
    assertThat(Claim.parse(bytes(json)).version()).isEqualTo(2);
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "",
    "not json",
    "[]",
    "null",
    "{\"version\":1}",
    "{\"version\":1,\"version\":1}",
  })
  void malformedClaimsAreRefused(String json) {
    assertThatThrownBy(() -> Claim.parse(bytes(json))).isInstanceOf(ClaimException.class);
  }

  @Test
  void everyFieldIsCheckedForTypeAndContent() {
    String[][] edits = {
      {"\"version\":1", "\"version\":\"1\""},
      {"\"version\":1", "\"version\":1.5"},
      {"\"version\":1", "\"version\":-1"},
      {"\"version\":1", "\"version\":99999999999"},
      {"\"capability\":\"share\"", "\"capability\":\"SHARE\""},
      {"\"capability\":\"share\"", "\"capability\":3"},
      {"nodekey:a1a1", "nodekey:zza1"},
      {"\"nodekey:", "\"mkey:"},
      {"A2sX0fLhLEJH", "BGsX0fLhLEJH"}, // first byte 0x04: not a compressed point
      {"A2sX0fLhLEJH", "A2sX0fLhLE+H"}, // not base64url
      {"\"Dw8PDw8PDw8PDw8PDw8PDw\"", "\"Dw8PDw8PDw8PDw8PDw8P\""}, // 15-byte nonce
      {"[\"203.0.113.7:41641\",", "[7,"},
      {"\"candidates\":[", "\"candidates\":{\"a\":["},
      {"\"created\":1767225600", "\"created\":\"1767225600\""},
      {"\"created\":1767225600", "\"created\":-5"},
    };
    for (String[] edit : edits) {
      String json = SAMPLE_CLAIM_JSON.replace(edit[0], edit[1]);
      assertThat(json).as(edit[1]).isNotEqualTo(SAMPLE_CLAIM_JSON);
      assertThatThrownBy(() -> Claim.parse(bytes(json)))
          .as(edit[1])
          .isInstanceOf(ClaimException.class);
    }
  }

  @Test
  void missingFieldsAreNamed() {
    String json = SAMPLE_CLAIM_JSON.replace(",\"nonce\":\"Dw8PDw8PDw8PDw8PDw8PDw\"", "");
    assertThatThrownBy(() -> Claim.parse(bytes(json))).hasMessage("claim has no nonce");
  }

  @Test
  void oversizedJsonIsRefused() {
    String padding = "x".repeat(ClaimJson.MAX_BYTES);
    String json =
        SAMPLE_CLAIM_JSON.replace("{\"version\"", "{\"pad\":\"" + padding + "\",\"version\"");
    assertThatThrownBy(() -> Claim.parse(bytes(json))).hasMessageContaining("larger than");
  }

  @Test
  void acceptJsonIsExact() throws ClaimException {
    Decision accept = Decision.accept(NONCE, List.of("198.51.100.4:53012"));
    String json = "{\"accepted\":true,\"claim_nonce\":\"Dw8PDw8PDw8PDw8PDw8PDw\","
        + "\"candidates\":[\"198.51.100.4:53012\"]}";
    assertThat(utf8(accept.toJson())).isEqualTo(json);
    assertThat(Decision.parse(bytes(json))).isEqualTo(accept);
  }

  @Test
  void rejectJsonIsExact() throws ClaimException {
    Decision reject = Decision.reject(NONCE, "claimed", "session already claimed");
    String json = "{\"accepted\":false,\"claim_nonce\":\"Dw8PDw8PDw8PDw8PDw8PDw\","
        + "\"reject_code\":\"claimed\",\"reject_reason\":\"session already claimed\"}";
    assertThat(utf8(reject.toJson())).isEqualTo(json);
    assertThat(Decision.parse(bytes(json))).isEqualTo(reject);
  }

  @Test
  void rejectWithoutANonceRoundTrips() throws ClaimException {
    Decision reject =
        Decision.reject(new byte[0], "malformed", "malformed claim: claim has no nonce");
    assertThat(Decision.parse(reject.toJson())).isEqualTo(reject);
  }

  @Test
  void rejectReasonsAreMadePrintableAndBounded() throws ClaimException {
    String json = "{\"accepted\":false,\"claim_nonce\":\"\",\"reject_code\":\"x\","
        + "\"reject_reason\":\"bad\\u001b[31m\\u009b\\u202e\\nnews" + "!".repeat(300) + "\"}";
    Decision d = Decision.parse(bytes(json));
    // 200 characters as sent; ESC, CSI, RLO and LF each become a 4- or 6-character escape
    assertThat(d.rejectReason()).startsWith("bad\\x1b[31m\\x9b\\u202e\\x0anews").hasSize(200 + 3 + 3 + 5 + 3);
  }

  @Test
  void malformedDecisionsAreRefused() {
    String[] bad = {
      "{}",
      "{\"accepted\":\"yes\"}",
      "{\"accepted\":true,\"claim_nonce\":\"\",\"candidates\":[]}", // an accept needs a nonce
      "{\"accepted\":true,\"claim_nonce\":\"Dw8PDw8PDw8PDw8PDw8PDw\"}",
      "{\"accepted\":false,\"claim_nonce\":\"\",\"reject_code\":\"Bad Code\","
          + "\"reject_reason\":\"\"}",
      "{\"accepted\":false,\"claim_nonce\":\"\",\"reject_code\":\"\",\"reject_reason\":\"x\"}",
      "{\"accepted\":false,\"claim_nonce\":\"AAAA\",\"reject_code\":\"x\",\"reject_reason\":\"x\"}",
    };
    for (String json : bad) {
      assertThatThrownBy(() -> Decision.parse(bytes(json))).as(json)
          .isInstanceOf(ClaimException.class);
    }
  }

  @Test
  void claimAccessorsReturnCopies() {
    Claim claim = sampleClaim();
    claim.nonce()[0] ^= 1;
    claim.claimantTlsKey()[1] ^= 1;
    assertThat(claim).isEqualTo(sampleClaim());
    assertThat(claim.toString()).contains("share").contains("203.0.113.7:41641");
    assertThat(claim.claimantDerpKey())
        .isEqualTo(NodePublicKey.parse("nodekey:" + "a1".repeat(32)));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
