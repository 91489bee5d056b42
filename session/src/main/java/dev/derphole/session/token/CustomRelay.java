package dev.derphole.session.token;

import dev.derphole.derp.net.IpLiteral;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * A DERP relay that is not on the public DERP map, e.g. our own {@code derper}: enough to dial it.
 *
 * @param host DNS name or IP literal for the Host header and TLS SNI; 1-253 ASCII characters
 * @param port TCP port, 1-65535
 * @param tls HTTPS (true) or plain HTTP (a development relay)
 * @param certSha256 SHA-256 of the relay's leaf certificate (DER), the {@code sha256-raw:} pin;
 *     only with TLS; without it the certificate is checked against the system trust store
 * @param ipLiteral the address to dial instead of resolving {@code host}; stored in canonical form
 *     ({@link IpLiteral#format})
 * @param stunPort the relay's UDP STUN port on the same address, when it runs one: the claimant
 *     learns its public address from it
 */
public record CustomRelay(
    String host, int port, boolean tls, Optional<byte[]> certSha256, Optional<String> ipLiteral,
    java.util.OptionalInt stunPort) {

  /** A relay without STUN. */
  public CustomRelay(String host, int port, boolean tls, Optional<byte[]> certSha256, Optional<String> ipLiteral) {
    this(host, port, tls, certSha256, ipLiteral, java.util.OptionalInt.empty());
  }
  /** Longest host name, the DNS limit. */
  public static final int MAX_HOST_LENGTH = 253;

  /** Length of the certificate pin. */
  public static final int PIN_LENGTH = 32;

  /** Checks every field, copies the pin, and canonicalizes the IP literal. */
  public CustomRelay {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(certSha256, "certSha256");
    Objects.requireNonNull(ipLiteral, "ipLiteral");
    Objects.requireNonNull(stunPort, "stunPort");
    if (stunPort.isPresent() && (stunPort.getAsInt() < 1 || stunPort.getAsInt() > 65535)) {
      throw new IllegalArgumentException("relay STUN port must be 1-65535, got " + stunPort.getAsInt());
    }
    if (!isHost(host)) {
      throw new IllegalArgumentException("relay host must be a DNS name or IP literal: " + host);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("relay port must be 1-65535, got " + port);
    }
    if (certSha256.isPresent()) {
      if (!tls) {
        throw new IllegalArgumentException("a relay certificate pin needs TLS");
      }
      if (certSha256.get().length != PIN_LENGTH) {
        throw new IllegalArgumentException(
            "relay certificate pin must be " + PIN_LENGTH + " bytes, got "
                + certSha256.get().length);
      }
      certSha256 = Optional.of(certSha256.get().clone());
    }
    if (ipLiteral.isPresent()) {
      String text = ipLiteral.get();
      ipLiteral =
          Optional.of(
              IpLiteral.format(
                  IpLiteral.parse(text)
                      .orElseThrow(
                          () -> new IllegalArgumentException("not an IP literal: " + text))));
    }
  }

  /** A copy of the certificate pin. */
  @Override
  public Optional<byte[]> certSha256() {
    return certSha256.map(byte[]::clone);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CustomRelay other
        && host.equals(other.host)
        && port == other.port
        && tls == other.tls
        && Arrays.equals(certSha256.orElse(null), other.certSha256.orElse(null))
        && ipLiteral.equals(other.ipLiteral)
        && stunPort.equals(other.stunPort);
  }

  @Override
  public int hashCode() {
    return Objects.hash(host, port, tls, Arrays.hashCode(certSha256.orElse(null)), ipLiteral, stunPort);
  }

  @Override
  public String toString() {
    return (tls ? "https://" : "http://")
        + (host.indexOf(':') >= 0 ? "[" + host + "]" : host)
        + ":" + port
        + certSha256.map(pin -> " sha256-raw:" + HexFormat.of().formatHex(pin)).orElse("")
        + ipLiteral.map(ip -> " via " + ip).orElse("");
  }

  /** An IP literal, or LDH labels of 1-63 characters separated by dots. */
  static boolean isHost(String host) {
    if (host.isEmpty() || host.length() > MAX_HOST_LENGTH) {
      return false;
    }
    if (IpLiteral.parse(host).isPresent()) {
      return true;
    }
    for (String label : host.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > 63
          || label.charAt(0) == '-' || label.charAt(label.length() - 1) == '-') {
        return false;
      }
      for (int i = 0; i < label.length(); i++) {
        char c = label.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '-';
        if (!ok) {
          return false;
        }
      }
    }
    return true;
  }
}
