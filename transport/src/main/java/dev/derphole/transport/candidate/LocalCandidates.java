package dev.derphole.transport.candidate;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Our own addresses on the session socket's port: the first candidates, available at once. The
 * socket takes both families, so both are offered: IPv4 first (what every path had before IPv6),
 * then IPv6 global and unique-local (fc00::/7) addresses, temporary (privacy) ones before stable
 * ones as the OS prefers them for outgoing traffic (RFC 6724, rule 7): a stateful firewall opens
 * for the address our probes leave from. Skipped: loopback (IPv4's unless allowed, for tests on
 * one machine), link-local (its scope cannot travel in a candidate), multicast, site-local,
 * IPv4-compatible, Tailscale's ranges (100.64.0.0/10, fd7a:115c:a1e0::/48: a path through another
 * Tailscale network is not a path we want), and IPv6 addresses the OS no longer uses or cannot yet
 * (deprecated, tentative, failed duplicate detection). The list is capped.
 *
 * <p>Which IPv6 addresses are temporary or deprecated comes from Linux's {@code /proc/net/if_inet6}
 * (address, interface index, prefix length, scope and flags in hex, name); elsewhere, or if it
 * cannot be read, every usable address is offered in the order the JDK lists them.
 */
public final class LocalCandidates {
  public static final int MAX = 16;
  static final Path PROC_IF_INET6 = Path.of("/proc/net/if_inet6");
  /** {@code IFA_F_*} of linux/if_addr.h, as {@code /proc/net/if_inet6} shows their low byte. */
  static final int IFA_F_TEMPORARY = 0x01;
  static final int IFA_F_DADFAILED = 0x08;
  static final int IFA_F_DEPRECATED = 0x20;
  static final int IFA_F_TENTATIVE = 0x40;

  private LocalCandidates() {}

  public static List<InetSocketAddress> gather(int port, boolean allowLoopback) {
    List<InetAddress> found = new ArrayList<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (nif.isUp()) {
          found.addAll(Collections.list(nif.getInetAddresses()));
        }
      }
    } catch (SocketException e) {
      // no interfaces to list: the relay still works
    }
    List<InetSocketAddress> out = new ArrayList<>();
    for (InetAddress a : order(found, ipv6Flags(PROC_IF_INET6), allowLoopback)) {
      if (out.size() < MAX) {
        out.add(new InetSocketAddress(a, port));
      }
    }
    if (allowLoopback && out.stream().noneMatch(c -> c.getAddress().isLoopbackAddress())) {
      out.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }
    return out;
  }

  /**
   * The usable ones of {@code addresses}: IPv4 in the order given, then IPv6 temporary ones, then
   * the other IPv6 ones. {@code flags}: an IPv6 address's {@code IFA_F_*} flags by its 16 bytes in
   * hex; empty when unknown (then no IPv6 address counts as temporary or unusable by its flags).
   */
  static List<InetAddress> order(List<InetAddress> addresses, Map<String, Integer> flags, boolean allowLoopback) {
    List<InetAddress> v4 = new ArrayList<>();
    List<InetAddress> temporary = new ArrayList<>();
    List<InetAddress> stable = new ArrayList<>();
    for (InetAddress a : addresses) {
      if (!usable(a, allowLoopback)) {
        continue;
      }
      if (a instanceof Inet4Address) {
        v4.add(a);
        continue;
      }
      int f = flags.getOrDefault(HexFormat.of().formatHex(a.getAddress()), 0);
      if ((f & (IFA_F_DEPRECATED | IFA_F_TENTATIVE | IFA_F_DADFAILED)) != 0) {
        continue;
      }
      ((f & IFA_F_TEMPORARY) != 0 ? temporary : stable).add(withoutScope(a));
    }
    List<InetAddress> out = new ArrayList<>(v4);
    out.addAll(temporary);
    out.addAll(stable);
    return out.stream().distinct().toList();
  }

  static boolean usable(InetAddress a, boolean allowLoopback) {
    if (a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isMulticastAddress()
        || (a instanceof Inet6Address && a.isSiteLocalAddress())) { // fec0::/10; for IPv4 the JDK means RFC 1918, which we keep
      return false;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet6Address) {
      // ::1 stays out even in tests: the IPv4 loopback is the one tests on one machine use.
      boolean tailscale = (b[0] & 0xff) == 0xfd && (b[1] & 0xff) == 0x7a && (b[2] & 0xff) == 0x11
          && (b[3] & 0xff) == 0x5c && (b[4] & 0xff) == 0xa1 && (b[5] & 0xff) == 0xe0;
      boolean global = (b[0] & 0xe0) == 0x20; // 2000::/3, the global unicast space
      boolean uniqueLocal = (b[0] & 0xfe) == 0xfc;
      return !a.isLoopbackAddress() && !tailscale && (global || uniqueLocal);
    }
    if (a.isLoopbackAddress()) {
      return allowLoopback;
    }
    boolean tailscale = (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64;
    return !tailscale;
  }

  /** The address without the interface scope the JDK attaches: candidates carry no scope. */
  private static InetAddress withoutScope(InetAddress a) {
    try {
      return InetAddress.getByAddress(a.getAddress());
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError("16 bytes are an IPv6 address", e);
    }
  }

  /** Each IPv6 address's flags from {@code /proc/net/if_inet6}; empty if there is no such file or it cannot be read. */
  static Map<String, Integer> ipv6Flags(Path file) {
    Map<String, Integer> out = new TreeMap<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException | SecurityException e) {
      return out;
    }
    for (String line : lines) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 5 && f[0].length() == 32) {
        try {
          out.put(f[0].toLowerCase(java.util.Locale.ROOT), Integer.parseInt(f[4], 16));
        } catch (NumberFormatException ignored) {
          // a line we cannot read says nothing about the others
        }
      }
    }
    return out;
  }
}
