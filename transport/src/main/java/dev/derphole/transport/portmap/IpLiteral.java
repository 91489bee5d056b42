package dev.derphole.transport.portmap;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An IP address written out, as gateways put them in SSDP LOCATION headers, URLs and SOAP
 * answers. Parsing one must never turn into a DNS lookup, which {@link InetAddress#getByName}
 * does for anything that is not a literal.
 */
final class IpLiteral {
  private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
  private static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  private IpLiteral() {}

  /** The address {@code host} spells, brackets around IPv6 allowed; empty for a name or garbage. */
  static Optional<InetAddress> parse(String host) {
    if (host == null) {
      return Optional.empty();
    }
    String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (!IPV4.matcher(bare).matches() && !IPV6.matcher(bare).matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByName(bare)); // a literal: parsed, not looked up
    } catch (UnknownHostException malformed) {
      return Optional.empty();
    }
  }
}
