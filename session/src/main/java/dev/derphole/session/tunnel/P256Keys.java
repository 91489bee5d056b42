package dev.derphole.session.tunnel;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;

/** A P-256 TLS key kept as its 32-byte private scalar (in a server token), and the key pair it stands for. */
final class P256Keys {
  static final int SCALAR_LENGTH = 32;
  private static final X9ECParameters CURVE = CustomNamedCurves.getByName("secp256r1");

  private P256Keys() {}

  /** A fresh private scalar, 32 bytes big-endian. */
  static byte[] generateScalar() {
    try {
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
      kpg.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      BigInteger s = ((ECPrivateKey) kpg.generateKeyPair().getPrivate()).getS();
      return unsigned32(s);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate a P-256 key", e);
    }
  }

  /** Whether {@code scalar} is a usable private key: 1 ≤ d < n. */
  static boolean isValid(byte[] scalar) {
    if (scalar.length != SCALAR_LENGTH) {
      return false;
    }
    BigInteger d = new BigInteger(1, scalar);
    return d.signum() > 0 && d.compareTo(CURVE.getN()) < 0;
  }

  /** The key pair for this scalar (public point = d·G). */
  static KeyPair keyPair(byte[] scalar) {
    BigInteger d = new BigInteger(1, scalar);
    org.bouncycastle.math.ec.ECPoint q = CURVE.getG().multiply(d).normalize();
    try {
      AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
      p.init(new ECGenParameterSpec("secp256r1"));
      ECParameterSpec spec = p.getParameterSpec(ECParameterSpec.class);
      KeyFactory kf = KeyFactory.getInstance("EC");
      ECPoint w = new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
      return new KeyPair(kf.generatePublic(new ECPublicKeySpec(w, spec)), kf.generatePrivate(new ECPrivateKeySpec(d, spec)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot rebuild a P-256 key pair", e);
    }
  }

  /** SEC1 compressed public key (33 bytes) for this scalar. */
  static byte[] compressedPublic(byte[] scalar) {
    return CURVE.getG().multiply(new BigInteger(1, scalar)).normalize().getEncoded(true);
  }

  private static byte[] unsigned32(BigInteger s) {
    byte[] raw = s.toByteArray();
    byte[] out = new byte[SCALAR_LENGTH];
    int n = Math.min(raw.length, SCALAR_LENGTH);
    System.arraycopy(raw, raw.length - n, out, SCALAR_LENGTH - n, n);
    return out;
  }
}
