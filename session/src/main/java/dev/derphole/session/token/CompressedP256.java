package dev.derphole.session.token;

import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;

/**
 * The TLS identity keys in tokens and claims: ECDSA P-256 public keys as SEC1 compressed points.
 *
 * <pre>
 *   +-----------------------+----------------------------------+
 *   | 0x02 (y even) or 0x03 | x, 32 bytes, big-endian, &lt; p   |
 *   +-----------------------+----------------------------------+
 * </pre>
 *
 * A key is valid only if x is a coordinate of a point on the curve; 33 random bytes with the right
 * first byte are valid about half the time.
 */
public final class CompressedP256 {
  /** Length of a compressed point in bytes. */
  public static final int LENGTH = 33;

  private static final X9ECParameters CURVE = CustomNamedCurves.getByName("secp256r1");
  private static final ECParameterSpec JDK_PARAMS = jdkParams();
  private static final int COORDINATE = 32;

  private CompressedP256() {}

  /** True if {@code key} is 33 bytes encoding a point on P-256. */
  public static boolean isValid(byte[] key) {
    if (key == null || key.length != LENGTH || (key[0] != 0x02 && key[0] != 0x03)) {
      return false;
    }
    try {
      CURVE.getCurve().decodePoint(key);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** The 33-byte form of a P-256 public key. */
  public static byte[] compress(ECPublicKey key) {
    if (!JDK_PARAMS.getCurve().equals(key.getParams().getCurve())
        || !JDK_PARAMS.getOrder().equals(key.getParams().getOrder())) {
      throw new IllegalArgumentException("not a P-256 key");
    }
    ECPoint w = key.getW();
    byte[] out = new byte[LENGTH];
    out[0] = (byte) (w.getAffineY().testBit(0) ? 0x03 : 0x02);
    byte[] x = w.getAffineX().toByteArray(); // may carry a sign byte or be short
    int copy = Math.min(x.length, COORDINATE);
    System.arraycopy(x, x.length - copy, out, 1 + COORDINATE - copy, copy);
    return out;
  }

  /** The JDK public key for a 33-byte compressed point. */
  public static ECPublicKey decompress(byte[] key) {
    if (!isValid(key)) {
      throw new IllegalArgumentException("not a compressed P-256 public key");
    }
    org.bouncycastle.math.ec.ECPoint p = CURVE.getCurve().decodePoint(key).normalize();
    ECPoint w =
        new ECPoint(p.getAffineXCoord().toBigInteger(), p.getAffineYCoord().toBigInteger());
    try {
      return (ECPublicKey)
          KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, JDK_PARAMS));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot build a P-256 key", e);
    }
  }

  private static ECParameterSpec jdkParams() {
    try {
      AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
      params.init(new ECGenParameterSpec("secp256r1"));
      ECParameterSpec spec = params.getParameterSpec(ECParameterSpec.class);
      if (!spec.getOrder().equals(CURVE.getN())) {
        throw new IllegalStateException("JDK and Bouncy Castle disagree about P-256");
      }
      return spec;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no P-256", e);
    }
  }
}
