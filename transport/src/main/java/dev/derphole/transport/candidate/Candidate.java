package dev.derphole.transport.candidate;

import dev.derphole.derp.net.IpLiteral;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * Text of a UDP candidate address in claims and decisions: {@code 203.0.113.7:41641} or {@code
 * [2001:db8::1]:41641}. Only the canonical spelling parses: IPv4 as a dotted quad without leading
 * zeros, IPv6 in brackets per RFC 5952 without a zone, the port in decimal without leading zeros,
 * 1-65535. Whether a parsed address is acceptable is {@link CandidatePolicy}'s business.
 */
public final class Candidate {
  /** Longer than {@code [ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535}: not a candidate. */
  static final int MAX_TEXT_LENGTH = 64;

  private Candidate() {}

  /** The address if {@code text} is a canonical candidate, never using DNS. */
  public static Optional<InetSocketAddress> parse(String text) {
    if (text == null || text.isEmpty() || text.length() > MAX_TEXT_LENGTH) {
      return Optional.empty();
    }
    boolean bracketed = text.charAt(0) == '[';
    int colon = bracketed ? text.indexOf("]:") + 1 : text.lastIndexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    String host = bracketed ? text.substring(1, colon - 1) : text.substring(0, colon);
    int port = port(text.substring(colon + 1));
    Optional<InetAddress> address = IpLiteral.parse(host);
    if (port < 0
        || address.isEmpty()
        || (address.get() instanceof Inet6Address) != bracketed
        || !IpLiteral.format(address.get()).equals(host)) {
      return Optional.empty();
    }
    return Optional.of(new InetSocketAddress(address.get(), port));
  }

  /** The canonical text of an address with a port. */
  public static String format(InetSocketAddress address) {
    InetAddress ip = address.getAddress();
    if (ip == null) {
      throw new IllegalArgumentException("candidate is unresolved: " + address.getHostString());
    }
    return IpLiteral.format(address);
  }

  /** Decimal 1-65535 without leading zeros, or -1. */
  private static int port(String text) {
    if (text.isEmpty() || text.length() > 5 || text.charAt(0) == '0') {
      return -1;
    }
    int value = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value <= 65535 ? value : -1;
  }
}
