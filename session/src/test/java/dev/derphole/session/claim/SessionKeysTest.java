package dev.derphole.session.claim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class SessionKeysTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final byte[] BEARER =
      HEX.parseHex("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
  private static final byte[] SESSION = HEX.parseHex("000102030405060708090a0b0c0d0e0f");
  /** The claim key of BEARER and SESSION, also computed with Python's hmac module. */
  private static final String CLAIM_KEY_HEX =
      "d7f1b93d1ddeb34b7617b3becfdeb9f9f6e7a85464a22b43be8b77b92647c9aa";

  @Test
  void everyKeyIsHkdfSha256OfTheBearerWithItsOwnLabel() throws GeneralSecurityException {
    SessionKeys keys = SessionKeys.derive(BEARER, SESSION);
    assertThat(keys.claimKey()).isEqualTo(hkdf("derphole/v1 claim"));
    assertThat(keys.decisionKey()).isEqualTo(hkdf("derphole/v1 decision"));
    assertThat(keys.controlKey(true)).isEqualTo(hkdf("derphole/v1 control issuer to claimant"));
    assertThat(keys.controlKey(false)).isEqualTo(hkdf("derphole/v1 control claimant to issuer"));
    assertThat(keys.discoKey()).isEqualTo(hkdf("derphole/v1 disco"));
  }

  @Test
  void claimKeyIsPinned() {
    // Snapshot of the derivation above, so a change of label or order cannot pass unnoticed.
    assertThat(HEX.formatHex(SessionKeys.derive(BEARER, SESSION).claimKey()))
        .isEqualTo(CLAIM_KEY_HEX);
  }

  @Test
  void keysAreDistinctAndDependOnTheSession() {
    SessionKeys keys = SessionKeys.derive(BEARER, SESSION);
    List<byte[]> all = List.of(keys.claimKey(), keys.decisionKey(), keys.controlKey(true),
        keys.controlKey(false), keys.discoKey());
    Set<String> distinct = all.stream().map(HEX::formatHex).collect(Collectors.toSet());
    assertThat(distinct).hasSize(5);
    all.forEach(k -> assertThat(k).hasSize(32));

    byte[] otherSession = SESSION.clone();
    otherSession[15] ^= 1;
    assertThat(SessionKeys.derive(BEARER, otherSession).claimKey()).isNotEqualTo(keys.claimKey());
    assertThat(SessionKeys.derive(BEARER, SESSION).claimKey()).isEqualTo(keys.claimKey());
  }

  @Test
  void refusesWrongLengthsAndHidesKeys() {
    assertThatThrownBy(() -> SessionKeys.derive(new byte[31], SESSION))
        .hasMessage("bearer secret must be 32 bytes, got 31");
    assertThatThrownBy(() -> SessionKeys.derive(BEARER, new byte[17]))
        .hasMessage("session id must be 16 bytes, got 17");
    SessionKeys keys = SessionKeys.derive(BEARER, SESSION);
    assertThat(keys.toString()).doesNotContain(HEX.formatHex(keys.claimKey()).substring(0, 8));
  }

  /** RFC 5869 with the JDK's HMAC: extract, then one block of expand (32 bytes). */
  private static byte[] hkdf(String label) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SESSION, "HmacSHA256"));
    byte[] prk = mac.doFinal(BEARER);
    mac.init(new SecretKeySpec(prk, "HmacSHA256"));
    mac.update(label.getBytes(StandardCharsets.US_ASCII));
    mac.update((byte) 1);
    return mac.doFinal();
  }
}
