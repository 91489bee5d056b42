package dev.derphole.derp.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * IP address text, parsed without ever touching DNS: DERP map fields, relay hints in tokens,
 * candidates in claims, hosts in a gateway's URLs. The one place the project reads IP literals.
 *
 * <p>Parsing never consults DNS: IPv4 must be a strict dotted quad (four decimal parts, no leading
 * zeros); anything else must look like an IPv6 literal (hex digits, colons and dots, with a colon)
 * before the JDK sees it, and with a colon present the JDK parses or refuses, it does not resolve.
 * No brackets, no zone ({@code %eth0}). Formatting is canonical: dotted quad for IPv4, RFC 5952
 * for IPv6 (lower case, no leading zeros, the longest run of two or more zero groups as {@code
 * ::}, the first such run on a tie).
 */
public final class IpLiteral {
  private static final int MAX_IPV6_TEXT = 45;

  private IpLiteral() {}

  /**
   * The address written in {@code text}, or empty. An IPv4-mapped IPv6 literal ({@code
   * ::ffff:1.2.3.4}) comes back as the IPv4 address, as the JDK returns it.
   */
  public static Optional<InetAddress> parse(String text) {
    if (text == null || text.isEmpty()) {
      return Optional.empty();
    }
    if (text.indexOf(':') < 0) {
      return Optional.ofNullable(dottedQuad(text));
    }
    if (text.length() > MAX_IPV6_TEXT) {
      return Optional.empty();
    }
    // The JDK resolves text that does not start with a hex digit or ':' by DNS.
    if (text.charAt(0) != ':' && !isHexDigit(text.charAt(0))) {
      return Optional.empty();
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c != ':' && c != '.' && !isHexDigit(c)) {
        return Optional.empty();
      }
    }
    try {
      return Optional.of(InetAddress.getByName(text));
    } catch (UnknownHostException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Like {@link #parse}, also accepting an IPv6 literal in brackets, as URLs write it. */
  public static Optional<InetAddress> parseHost(String host) {
    if (host != null && host.length() > 2 && host.startsWith("[") && host.endsWith("]")) {
      return parse(host.substring(1, host.length() - 1));
    }
    return parse(host);
  }

  /**
   * An address with a port as a user reads it: {@code 192.0.2.2:49533}, {@code [2001:db8::1]:443},
   * never {@code InetSocketAddress.toString}'s {@code /192.0.2.2:49533}. The one format for socket
   * addresses in messages and {@code --verbose} lines; an unresolved one shows its host name.
   */
  public static String format(java.net.InetSocketAddress address) {
    InetAddress ip = address.getAddress();
    String host = ip instanceof Inet4Address || ip instanceof Inet6Address ? format(ip) : address.getHostString();
    return new HostPort(host, address.getPort()).toString();
  }

  /** Canonical text: dotted quad, or RFC 5952 IPv6 without brackets. */
  public static String format(InetAddress address) {
    if (address instanceof Inet4Address) {
      return address.getHostAddress();
    }
    if (!(address instanceof Inet6Address)) {
      throw new IllegalArgumentException("not an IP address: " + address);
    }
    byte[] b = address.getAddress();
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLength = 1; // a single zero group is written as 0, never as ::
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder out = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(groups[i]));
    }
    return out.toString();
  }

  /** Four decimal parts 0-255 without leading zeros, or null. */
  private static Inet4Address dottedQuad(String text) {
    byte[] out = new byte[4];
    int part = 0;
    int value = 0;
    int digits = 0;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : '.';
      if (c == '.') {
        if (digits == 0 || part == 4) {
          return null;
        }
        out[part++] = (byte) value;
        value = 0;
        digits = 0;
      } else if (c >= '0' && c <= '9') {
        if (digits > 0 && value == 0) {
          return null; // leading zero: some parsers read it as octal
        }
        value = value * 10 + (c - '0');
        if (++digits > 3 || value > 255) {
          return null;
        }
      } else {
        return null;
      }
    }
    if (part != 4) {
      return null;
    }
    try {
      return (Inet4Address) InetAddress.getByAddress(out);
    } catch (UnknownHostException e) {
      throw new AssertionError("four bytes are an IPv4 address", e);
    }
  }

  /** ASCII only ({@link Character#digit} also takes other scripts' digits). */
  private static boolean isHexDigit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
}
