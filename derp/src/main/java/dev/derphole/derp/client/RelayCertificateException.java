package dev.derphole.derp.client;

import java.io.IOException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;

/**
 * The relay's TLS certificate failed verification: a stale {@code CertName} pin, or a certificate no
 * trusted authority signed. Dialing again will not change that, so whoever waits for a connection
 * is told at once instead of after its time-out.
 */
public final class RelayCertificateException extends IOException {
  public RelayCertificateException(String message) {
    super(message);
  }

  /** Why the certificate was refused, in words, or null when {@code handshakeFailure} is not about it. */
  static String why(Throwable handshakeFailure) {
    CertificateException refusal = null;
    for (Throwable c = handshakeFailure; c != null; c = c.getCause()) {
      if (c instanceof CertPathBuilderException) {
        return "no authority this machine trusts signed it (a self-signed relay needs its sha256-raw CertName"
            + " in the DERP map)";
      }
      if (c instanceof CertificateException ce && refusal == null) {
        refusal = ce;
      }
    }
    if (refusal == null) {
      return null;
    }
    Throwable innermost = refusal;
    while (innermost.getCause() != null && innermost.getCause().getMessage() != null) {
      innermost = innermost.getCause();
    }
    return innermost.getMessage() != null ? innermost.getMessage() : "it did not verify";
  }
}
