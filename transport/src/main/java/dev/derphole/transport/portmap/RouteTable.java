package dev.derphole.transport.portmap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What the host's IPv4 routing says about the way out: the default gateway (from Linux's {@code
 * /proc/net/route}) and our own address toward a host.
 *
 * <p>{@code /proc/net/route} is a header line, then one route per line, tab-separated; addresses
 * are 8 hex digits in the kernel's byte order, little-endian on every platform we run on:
 *
 * <pre>
 * Iface  Destination  Gateway   Flags  RefCnt  Use  Metric  Mask      MTU  Window  IRTT
 * eth0   00000000     0101A8C0  0003   0       0    100     00000000  0    0       0
 *        (default)    192.168.1.1  UP|GATEWAY         (lowest wins)
 * </pre>
 */
final class RouteTable {
  static final Path PROC_NET_ROUTE = Path.of("/proc/net/route");

  private static final int RTF_UP = 0x0001;
  private static final int RTF_GATEWAY = 0x0002;
  /** A port for the routing lookup below; connecting a UDP socket sends nothing. */
  private static final int ANY_PORT = 9;
  /** An address off every local network (TEST-NET-2), to ask which way out the default route takes; nothing is sent to it. */
  private static final InetAddress ROUTE_PROBE = littleEndianIpv4(0x016433c6L); // 198.51.100.1

  private RouteTable() {}

  /**
   * The gateway of the default route with the lowest metric; empty without one. Without a route
   * table to read (macOS, Windows: no {@code /proc}), {@link #guessedGateway()}.
   */
  static Optional<InetAddress> defaultGateway() {
    return defaultGateway(PROC_NET_ROUTE, RouteTable::guessedGateway);
  }

  static Optional<InetAddress> defaultGateway(Path table, java.util.function.Supplier<Optional<InetAddress>> noTable) {
    try {
      return defaultGateway(Files.readString(table, StandardCharsets.US_ASCII));
    } catch (java.nio.file.NoSuchFileException noProc) {
      return noTable.get();
    } catch (IOException | SecurityException unreadable) {
      return Optional.empty();
    }
  }

  /**
   * Where the router most likely is when no route table can be read: the first address of the
   * private IPv4 network our way out is on (192.168.1.1 for 192.168.1.23/24), as home and office
   * routers are. A wrong guess costs a few unanswered probes: only answers from that address count.
   */
  static Optional<InetAddress> guessedGateway() {
    return localAddressToward(ROUTE_PROBE).flatMap(local -> {
      try {
        java.net.NetworkInterface nic = java.net.NetworkInterface.getByInetAddress(local);
        if (nic == null) {
          return Optional.empty();
        }
        for (java.net.InterfaceAddress a : nic.getInterfaceAddresses()) {
          if (a.getAddress().equals(local)) {
            return guessedGateway(local, a.getNetworkPrefixLength());
          }
        }
      } catch (SocketException | SecurityException e) {
        // no interface to read: no guess
      }
      return Optional.empty();
    });
  }

  /** The first address of {@code local}'s network, if {@code local} is a private IPv4 address on a /8 to /30. */
  static Optional<InetAddress> guessedGateway(InetAddress local, int prefixLength) {
    if (!(local instanceof java.net.Inet4Address) || !local.isSiteLocalAddress() || prefixLength < 8 || prefixLength > 30) {
      return Optional.empty();
    }
    byte[] b = local.getAddress();
    int address = ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    int first = (address & (-1 << (32 - prefixLength))) + 1;
    if (first == address) {
      return Optional.empty(); // we are that address: the router is elsewhere
    }
    return Optional.of(littleEndianIpv4(Integer.reverseBytes(first) & 0xffffffffL));
  }

  /** {@link #defaultGateway()} over the text of a {@code /proc/net/route}. Malformed lines are skipped. */
  static Optional<InetAddress> defaultGateway(String procNetRoute) {
    InetAddress best = null;
    long bestMetric = Long.MAX_VALUE;
    for (String line : procNetRoute.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 8 || f[0].equals("Iface")) {
        continue;
      }
      try {
        long destination = Long.parseLong(f[1], 16);
        long gateway = Long.parseLong(f[2], 16);
        int flags = Integer.parseInt(f[3], 16);
        long metric = Long.parseLong(f[6]);
        long mask = Long.parseLong(f[7], 16);
        boolean isDefault = destination == 0 && mask == 0;
        boolean viaGateway = (flags & RTF_UP) != 0 && (flags & RTF_GATEWAY) != 0 && gateway != 0;
        if (isDefault && viaGateway && gateway <= 0xffffffffL && metric < bestMetric) {
          best = littleEndianIpv4(gateway);
          bestMetric = metric;
        }
      } catch (NumberFormatException malformed) {
        // A line we cannot read is a route we cannot use.
      }
    }
    return Optional.ofNullable(best);
  }

  static final Path PROC_NET_IPV6_ROUTE = Path.of("/proc/net/ipv6_route");

  /** A default IPv6 route's next hop, and the interface it is on (its scope, when link-local). */
  record Ipv6NextHop(InetAddress address, String iface) {}

  /**
   * The next hop of the default IPv6 route ({@code ::/0}) with the lowest metric, from Linux's
   * {@code /proc/net/ipv6_route}; a link-local one carries its interface's scope. Empty without
   * one, and where there is no such file (macOS, Windows: no IPv6 pinholes there).
   */
  static Optional<InetAddress> defaultGateway6() {
    return defaultGateway6(PROC_NET_IPV6_ROUTE).flatMap(RouteTable::scoped);
  }

  static Optional<Ipv6NextHop> defaultGateway6(Path table) {
    try {
      return defaultGateway6(Files.readString(table, StandardCharsets.US_ASCII));
    } catch (IOException | SecurityException noTable) {
      return Optional.empty();
    }
  }

  /**
   * {@link #defaultGateway6()} over the text of a {@code /proc/net/ipv6_route}: no header, one
   * route a line, space-separated: destination (32 hex digits, network order), its prefix length
   * (2 hex), source and its length, next hop, metric, reference count, use, flags (8 hex each),
   * interface. Malformed lines are skipped.
   */
  static Optional<Ipv6NextHop> defaultGateway6(String procNetIpv6Route) {
    Ipv6NextHop best = null;
    long bestMetric = Long.MAX_VALUE;
    for (String line : procNetIpv6Route.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 10 || f[0].length() != 32 || f[4].length() != 32) {
        continue;
      }
      try {
        boolean isDefault = f[0].matches("0+") && Integer.parseInt(f[1], 16) == 0;
        byte[] nextHop = new byte[16];
        for (int i = 0; i < 16; i++) {
          nextHop[i] = (byte) Integer.parseInt(f[4].substring(2 * i, 2 * i + 2), 16);
        }
        long metric = Long.parseLong(f[5], 16);
        long flags = Long.parseLong(f[8], 16);
        boolean viaGateway = (flags & RTF_UP) != 0 && (flags & RTF_GATEWAY) != 0 && !f[4].matches("0+");
        if (isDefault && viaGateway && metric < bestMetric) {
          best = new Ipv6NextHop(InetAddress.getByAddress(nextHop), f[9]);
          bestMetric = metric;
        }
      } catch (NumberFormatException | UnknownHostException malformed) {
        // A line we cannot read is a route we cannot use.
      }
    }
    return Optional.ofNullable(best);
  }

  /** A link-local next hop with its interface's scope id; empty if that interface is gone. */
  static Optional<InetAddress> scoped(Ipv6NextHop hop) {
    if (!hop.address().isLinkLocalAddress()) {
      return Optional.of(hop.address());
    }
    try {
      java.net.NetworkInterface nic = java.net.NetworkInterface.getByName(hop.iface());
      if (nic == null) {
        return Optional.empty();
      }
      return Optional.of(java.net.Inet6Address.getByAddress(null, hop.address().getAddress(), nic.getIndex()));
    } catch (SocketException | UnknownHostException | SecurityException e) {
      return Optional.empty();
    }
  }

  /**
   * The local address the kernel would send from toward {@code host}: connecting a UDP socket
   * does the routing lookup and sends nothing. Empty when there is no route.
   */
  static Optional<InetAddress> localAddressToward(InetAddress host) {
    try (DatagramSocket probe = new DatagramSocket()) {
      probe.connect(host, ANY_PORT);
      InetAddress local = probe.getLocalAddress();
      return local == null || local.isAnyLocalAddress() ? Optional.empty() : Optional.of(local);
    } catch (SocketException | UncheckedIOException | IllegalArgumentException | SecurityException noRoute) {
      return Optional.empty();
    }
  }

  private static InetAddress littleEndianIpv4(long value) {
    byte[] octets = {(byte) value, (byte) (value >> 8), (byte) (value >> 16), (byte) (value >> 24)};
    try {
      return InetAddress.getByAddress(octets);
    } catch (UnknownHostException impossible) {
      throw new AssertionError("4 bytes are always an IPv4 address", impossible);
    }
  }
}
