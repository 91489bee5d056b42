package dev.derphole.transport.quic;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly one peer: the one whose leaf certificate carries the pinned P-256 key. Used both
 * ways (the server pins the claimant, the client pins the issuer); exactly one certificate must
 * be presented.
 */
final class PinnedKeyTrustManager extends X509ExtendedTrustManager {
  private final byte[] pin;

  PinnedKeyTrustManager(byte[] pin) {
    if (pin.length != TlsIdentity.PUBLIC_KEY_LENGTH) {
      throw new IllegalArgumentException("pinned key must be " + TlsIdentity.PUBLIC_KEY_LENGTH + " bytes, got " + pin.length);
    }
    this.pin = pin.clone();
  }

  private void check(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length != 1) {
      throw new CertificateException("peer must present exactly one certificate");
    }
    if (!TlsIdentity.matches(chain[0], pin)) {
      throw new CertificateException("peer's TLS key is not the one this session expects");
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    check(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
