package dev.derphole.derp.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A self-signed ECDSA P-256 certificate for a DERP server that has no real one. Clients reach it
 * by pinning {@link #certName()} ({@code sha256-raw:…}) in their DERP map.
 */
public record SelfSignedCertificate(X509Certificate certificate, KeyPair keyPair) {

  /** A certificate for these DNS names and IP literals, valid for a year. */
  public static SelfSignedCertificate generate(List<String> names) {
    try {
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
      kpg.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      return generate(names, kpg.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create a key pair: " + e.getMessage(), e);
    }
  }

  /**
   * A certificate for an existing key pair (a stable identity kept elsewhere, e.g. in a derptun
   * server token), valid for a year from now.
   */
  public static SelfSignedCertificate generate(List<String> names, KeyPair kp) {
    if (names.isEmpty()) {
      throw new IllegalArgumentException("a certificate needs at least one name");
    }
    try {
      Instant now = Instant.now();
      GeneralName[] sans = names.stream().map(SelfSignedCertificate::san).toArray(GeneralName[]::new);
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
          new X500Name("CN=" + names.get(0).replaceAll("[,=+<>#;\"\\\\]", "_")),
          new BigInteger(64, new SecureRandom()),
          Date.from(now.minus(Duration.ofMinutes(5))),
          Date.from(now.plus(Duration.ofDays(365))),
          new X500Name("CN=" + names.get(0).replaceAll("[,=+<>#;\"\\\\]", "_")),
          kp.getPublic());
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      X509Certificate cert = new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
      return new SelfSignedCertificate(cert, kp);
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot create a self-signed certificate: " + e.getMessage(), e);
    }
  }

  public String certName() {
    return DerpTls.certName(certificate);
  }

  private static GeneralName san(String name) {
    if (dev.derphole.derp.net.IpLiteral.parse(name).isPresent()) {
      try {
        return new GeneralName(GeneralName.iPAddress, InetAddress.getByName(name).getHostAddress());
      } catch (IOException e) {
        throw new IllegalArgumentException("bad IP address for a certificate: " + name);
      }
    }
    return new GeneralName(GeneralName.dNSName, name);
  }
}
