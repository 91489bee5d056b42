package dev.derphole.session.token;

import dev.derphole.derp.key.NodePublicKey;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/** Fixed and fresh tokens and keys for the tests of this module. */
public final class TestTokens {
  /** 2026-01-01T00:00:00Z, the "now" of fixed tests. */
  public static final Instant NOW = Instant.ofEpochSecond(1_767_225_600L);

  /** The P-256 generator G, compressed (G.y is odd): a valid TLS key anyone can write down. */
  public static final byte[] GENERATOR_TLS_KEY =
      HexFormat.of()
          .parseHex("036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");

  private TestTokens() {}

  /** A fresh P-256 public key, compressed. */
  public static byte[] tlsKey() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return CompressedP256.compress((ECPublicKey) g.generateKeyPair().getPublic());
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** A node key made of {@code fill} repeated: not a real public key, which tokens do not check. */
  public static NodePublicKey derpKey(int fill) {
    byte[] raw = new byte[NodePublicKey.LENGTH];
    Arrays.fill(raw, (byte) fill);
    return NodePublicKey.fromRaw(raw);
  }

  /** A fresh token issued at {@link #NOW} with the generator TLS key, in DERP region 1. */
  public static Token issue(Capability capability) {
    return Token.issue(capability, derpKey(0x11), GENERATOR_TLS_KEY, RelayHint.region(1), NOW);
  }

  /** A custom relay with everything: TLS, a pin, and an IP literal. */
  public static CustomRelay fullCustomRelay() {
    byte[] pin = new byte[CustomRelay.PIN_LENGTH];
    Arrays.fill(pin, (byte) 0xC0);
    return new CustomRelay("derp.example.net", 8443, true, Optional.of(pin),
        Optional.of("192.0.2.10"));
  }
}
