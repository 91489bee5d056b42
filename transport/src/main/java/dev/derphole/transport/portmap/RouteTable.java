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

  private RouteTable() {}

  /** The gateway of the default route with the lowest metric; empty without one or off Linux. */
  static Optional<InetAddress> defaultGateway() {
    try {
      return defaultGateway(Files.readString(PROC_NET_ROUTE, StandardCharsets.US_ASCII));
    } catch (IOException | SecurityException unreadable) {
      return Optional.empty();
    }
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
