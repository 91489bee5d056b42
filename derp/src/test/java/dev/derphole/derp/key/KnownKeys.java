package dev.derphole.derp.key;

import java.util.HexFormat;

/** Published key vectors shared by the tests. */
final class KnownKeys {
  // RFC 7748 §6.1. Alice's scalar is not clamped as written; X25519 clamps it.
  static final String ALICE_SK = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  static final String ALICE_PK = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
  static final String BOB_SK = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
  static final String BOB_PK = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
  static final String SHARED = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

  /** NaCl tests/box.c "firstkey" = HSalsa20(SHARED, 16 zero bytes) = crypto_box_beforenm. */
  static final String FIRSTKEY = "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389";

  // Tailscale types/key/node_test.go.
  static final String TS_PRIVATE =
      "privkey:40ab1b58e9076c7a4d9d07291f5edf9d1aa017eb949624ba683317f48a640369";
  static final String TS_PUBLIC =
      "nodekey:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765";

  private KnownKeys() {}

  static NodePrivateKey alice() {
    return NodePrivateKey.fromRaw(HexFormat.of().parseHex(ALICE_SK));
  }

  static NodePrivateKey bob() {
    return NodePrivateKey.fromRaw(HexFormat.of().parseHex(BOB_SK));
  }
}
