package dev.derphole.derp.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.File;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509TrustManager;

/**
 * TLS for DERP. Both sides offer only {@code http/1.1} in ALPN: an h2 connection cannot carry the
 * HTTP/1.1 upgrade that DERP needs.
 */
public final class DerpTls {
  /** Prefix of a {@code CertName} that pins the SHA-256 of the leaf certificate's DER bytes. */
  public static final String SHA256_RAW = "sha256-raw:";

  private static final ApplicationProtocolConfig HTTP11_ONLY = new ApplicationProtocolConfig(
      ApplicationProtocolConfig.Protocol.ALPN,
      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
      ApplicationProtocolNames.HTTP_1_1);

  private DerpTls() {}

  /** A server context from PEM files (certificate chain, PKCS#8 key). */
  public static SslContext server(File certChainPem, File keyPem) throws SSLException {
    try {
      return SslContextBuilder.forServer(certChainPem, keyPem).applicationProtocolConfig(HTTP11_ONLY).build();
    } catch (IllegalArgumentException e) {
      throw new SSLException("cannot load TLS certificate " + certChainPem + " and key " + keyPem + ": " + e.getMessage(), e);
    }
  }

  public static SslContext server(PrivateKey key, X509Certificate... chain) throws SSLException {
    return SslContextBuilder.forServer(key, chain).applicationProtocolConfig(HTTP11_ONLY).build();
  }

  /**
   * A client context. With {@code certName} = {@code sha256-raw:<hex>} the leaf is pinned and
   * nothing else is checked; with {@code insecure} nothing is checked (tests only); otherwise the
   * platform's trust store and a host-name check apply.
   */
  public static SslContext client(String certName, boolean insecure) throws SSLException {
    SslContextBuilder b = SslContextBuilder.forClient().applicationProtocolConfig(HTTP11_ONLY);
    if (insecure) {
      b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
    } else if (certName != null && certName.startsWith(SHA256_RAW)) {
      b.trustManager(new PinnedLeaf(certName.substring(SHA256_RAW.length()))).endpointIdentificationAlgorithm(null);
    } else {
      b.endpointIdentificationAlgorithm("HTTPS");
    }
    return b.build();
  }

  /** {@code sha256-raw:<hex>} for a certificate, the form a DERP map's CertName uses to pin it. */
  public static String certName(X509Certificate cert) {
    try {
      return SHA256_RAW + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Accepts exactly the leaf whose DER hashes to the pin. */
  private static final class PinnedLeaf implements X509TrustManager {
    private final byte[] pin;

    PinnedLeaf(String hex) {
      try {
        this.pin = HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("CertName pin is not hex: " + hex);
      }
      if (pin.length != 32) {
        throw new IllegalArgumentException("CertName pin must be 32 bytes of SHA-256, got " + pin.length);
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("DERP server sent no certificate");
      }
      try {
        byte[] got = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
        if (!MessageDigest.isEqual(got, pin)) {
          throw new CertificateException("it does not match the sha256-raw CertName pinned for it");
        }
      } catch (NoSuchAlgorithmException e) {
        throw new CertificateException(e);
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("not a server trust manager");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
