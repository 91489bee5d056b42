package dev.derphole.transport.candidate;

import dev.derphole.derp.net.HostPort;
import dev.derphole.derp.net.IpLiteral;
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
    HostPort split;
    try {
      split = HostPort.parse(text);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    Optional<InetAddress> address = IpLiteral.parse(split.host());
    if (split.port() == 0 || address.isEmpty()) {
      return Optional.empty();
    }
    InetSocketAddress parsed = new InetSocketAddress(address.get(), split.port());
    // Canonical only: the text must be what we would write (no leading zeros, RFC 5952, brackets for IPv6 alone).
    return format(parsed).equals(text) ? Optional.of(parsed) : Optional.empty();
  }

  /** The canonical text of an address with a port. */
  public static String format(InetSocketAddress address) {
    InetAddress ip = address.getAddress();
    if (ip == null) {
      throw new IllegalArgumentException("candidate is unresolved: " + address.getHostString());
    }
    return IpLiteral.format(address);
  }
}
