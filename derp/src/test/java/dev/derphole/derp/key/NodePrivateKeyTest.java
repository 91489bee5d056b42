package dev.derphole.derp.key;

import static dev.derphole.derp.key.KnownKeys.ALICE_PK;
import static dev.derphole.derp.key.KnownKeys.ALICE_SK;
import static dev.derphole.derp.key.KnownKeys.BOB_PK;
import static dev.derphole.derp.key.KnownKeys.FIRSTKEY;
import static dev.derphole.derp.key.KnownKeys.SHARED;
import static dev.derphole.derp.key.KnownKeys.TS_PRIVATE;
import static dev.derphole.derp.key.KnownKeys.TS_PUBLIC;
import static dev.derphole.derp.key.KnownKeys.alice;
import static dev.derphole.derp.key.KnownKeys.bob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NodePrivateKeyTest {
  private static final HexFormat HEX = HexFormat.of();

  @Test
  void rfc7748PublicKeys() {
    assertThat(alice().publicKey().untypedHex()).isEqualTo(ALICE_PK);
    assertThat(bob().publicKey().untypedHex()).isEqualTo(BOB_PK);
  }

  @Test
  void rfc7748SharedSecretBothWays() {
    NodePrivateKey alice = alice();
    NodePrivateKey bob = bob();
    assertThat(HEX.formatHex(alice.agree(bob.publicKey()))).isEqualTo(SHARED);
    assertThat(HEX.formatHex(bob.agree(alice.publicKey()))).isEqualTo(SHARED);
  }

  @Test
  void sharedKeyIsNaclBeforenmBothWays() {
    NodePrivateKey alice = alice();
    NodePrivateKey bob = bob();
    assertThat(HEX.formatHex(alice.sharedKey(bob.publicKey()).raw())).isEqualTo(FIRSTKEY);
    assertThat(HEX.formatHex(bob.sharedKey(alice.publicKey()).raw())).isEqualTo(FIRSTKEY);
  }

  @Test
  void tailscaleKeyPair() {
    NodePrivateKey key = NodePrivateKey.parse(TS_PRIVATE);
    assertThat(key.publicKey().toString()).isEqualTo(TS_PUBLIC);
    assertThat(key.toText()).isEqualTo(TS_PRIVATE);
  }

  @Test
  void fromRawClampsACopy() {
    byte[] raw = HEX.parseHex(ALICE_SK);
    NodePrivateKey key = NodePrivateKey.fromRaw(raw);
    assertThat(raw[0]).isEqualTo((byte) 0x77); // caller's array untouched
    byte[] clamped = key.raw();
    assertThat(clamped[0]).isEqualTo((byte) 0x70);
    assertThat(clamped[31]).isEqualTo((byte) 0x6a);
    clamped[5] ^= 1;
    assertThat(key.raw()).isNotEqualTo(clamped); // raw() hands out a copy
  }

  @Test
  void generatedKeysAreClampedAndDistinct() {
    NodePrivateKey a = NodePrivateKey.generate();
    NodePrivateKey b = NodePrivateKey.generate();
    assertThat(a.raw()).isNotEqualTo(b.raw());
    byte[] raw = a.raw();
    assertThat(raw[0] & 7).isZero();
    assertThat(raw[31] & 0xc0).isEqualTo(0x40);
  }

  @Test
  void toStringNeverRevealsTheKey() {
    NodePrivateKey key = NodePrivateKey.parse(TS_PRIVATE);
    String hex = TS_PRIVATE.substring("privkey:".length());
    assertThat(key.toString()).isEqualTo("privkey:<redacted>").doesNotContain(hex);
    assertThat(String.valueOf(key)).doesNotContain(hex.substring(0, 8));
  }

  @Test
  void parseRoundTripsToText() {
    NodePrivateKey key = NodePrivateKey.generate();
    NodePrivateKey again = NodePrivateKey.parse(key.toText());
    assertThat(again.raw()).isEqualTo(key.raw());
    assertThat(again.publicKey()).isEqualTo(key.publicKey());
    assertThat(NodePrivateKey.parse(TS_PRIVATE.toUpperCase().replace("PRIVKEY:", "privkey:"))
            .toText())
        .isEqualTo(TS_PRIVATE);
  }

  @Test
  void parseErrorsAreReadableAndDoNotQuoteTheSecret() {
    String hex = TS_PRIVATE.substring("privkey:".length());
    assertThatThrownBy(() -> NodePrivateKey.parse(hex))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("private key must start with \"privkey:\" followed by 64 hex digits");
    assertThatThrownBy(() -> NodePrivateKey.parse("privkey:" + hex.substring(2)))
        .hasMessage("private key after \"privkey:\" must be 64 hex digits, got 62 characters");
    assertThatThrownBy(() -> NodePrivateKey.parse("privkey:" + hex.substring(1) + "z"))
        .hasMessage("private key after \"privkey:\" has a non-hex character at index 63");
    assertThatThrownBy(() -> NodePrivateKey.parse(TS_PUBLIC))
        .message()
        .doesNotContain(TS_PUBLIC.substring("nodekey:".length()));
  }

  @Test
  void fromRawRejectsWrongLengthNamingIt() {
    assertThatThrownBy(() -> NodePrivateKey.fromRaw(new byte[33]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("private key must be 32 bytes, got 33");
  }

  /**
   * Public keys whose X25519 result is all zero for every clamped scalar: 0, 1, two points of order
   * 8, p-1, p and p+1 (u-coordinates, little-endian).
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      })
  void lowOrderPeerKeysAreRejected(String hex) {
    NodePrivateKey me = NodePrivateKey.generate();
    NodePublicKey bad = NodePublicKey.parseUntyped(hex);
    assertThatThrownBy(() -> me.sharedKey(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("low-order point")
        .hasMessageContaining(bad.toString());
    assertThatThrownBy(() -> me.seal(bad, new byte[] {1}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> me.open(bad, new byte[64]))
        .isInstanceOf(BoxException.class)
        .hasMessageStartingWith("cannot open box: peer key " + bad);
  }
}
