package dev.derphole.transport.quic;

import dev.derphole.derp.tls.SelfSignedCertificate;
import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import java.util.List;

/**
 * A peer's QUIC TLS identity: an ECDSA P-256 key and a self-signed certificate for it, made fresh
 * for each session (Ed25519 certificates fail in BoringSSL). The other side pins the public key,
 * carried as a 33-byte SEC1 compressed point (in the token for the issuer, in the claim for the
 * claimant); chains, names and dates are not checked.
 */
public record TlsIdentity(PrivateKey privateKey, X509Certificate certificate) {
  public static final int PUBLIC_KEY_LENGTH = 33;

  public static TlsIdentity generate() {
    SelfSignedCertificate c = SelfSignedCertificate.generate(List.of("derphole"));
    return new TlsIdentity(c.keyPair().getPrivate(), c.certificate());
  }

  /** An identity for a key pair kept elsewhere (derptun's stable server key), with a fresh certificate. */
  public static TlsIdentity of(java.security.KeyPair keyPair) {
    SelfSignedCertificate c = SelfSignedCertificate.generate(List.of("derphole"), keyPair);
    return new TlsIdentity(c.keyPair().getPrivate(), c.certificate());
  }

  /** The pin the other side checks. */
  public byte[] publicKey() {
    return compressed(certificate.getPublicKey());
  }

  /** 0x02/0x03 (parity of y) followed by x as 32 big-endian bytes; empty for a non-P-256 key. */
  public static byte[] compressed(PublicKey key) {
    if (!(key instanceof ECPublicKey ec) || ec.getParams().getCurve().getField().getFieldSize() != 256) {
      return new byte[0];
    }
    BigInteger x = ec.getW().getAffineX();
    BigInteger y = ec.getW().getAffineY();
    byte[] out = new byte[PUBLIC_KEY_LENGTH];
    out[0] = (byte) (y.testBit(0) ? 0x03 : 0x02);
    byte[] xb = x.toByteArray();
    int n = Math.min(xb.length, 32);
    System.arraycopy(xb, xb.length - n, out, PUBLIC_KEY_LENGTH - n, n);
    return out;
  }

  /** Whether {@code cert} carries exactly the pinned key. */
  public static boolean matches(X509Certificate cert, byte[] pin) {
    byte[] got = compressed(cert.getPublicKey());
    return got.length == PUBLIC_KEY_LENGTH && java.security.MessageDigest.isEqual(got, pin);
  }

  @Override
  public String toString() {
    return "TlsIdentity" + Arrays.toString(publicKey());
  }
}
