package dev.derphole.transport.candidate;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Our own addresses on the session socket's port: the first candidates, available at once.
 * IPv4 only (the session socket is IPv4). Skips loopback (unless allowed, for tests on one
 * machine), link-local, multicast and Tailscale's CGNAT range 100.64.0.0/10 (a path through
 * another Tailscale network is not a path we want), and caps the list.
 */
public final class LocalCandidates {
  public static final int MAX = 16;

  private LocalCandidates() {}

  public static List<InetSocketAddress> gather(int port, boolean allowLoopback) {
    List<InetSocketAddress> out = new ArrayList<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nif.isUp()) {
          continue;
        }
        for (InetAddress a : Collections.list(nif.getInetAddresses())) {
          if (usable(a, allowLoopback) && out.size() < MAX) {
            out.add(new InetSocketAddress(a, port));
          }
        }
      }
    } catch (SocketException e) {
      // no interfaces to list: the relay still works
    }
    if (allowLoopback && out.stream().noneMatch(c -> c.getAddress().isLoopbackAddress())) {
      out.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }
    return out;
  }

  static boolean usable(InetAddress a, boolean allowLoopback) {
    if (!(a instanceof Inet4Address) || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isMulticastAddress()) {
      return false;
    }
    if (a.isLoopbackAddress()) {
      return allowLoopback;
    }
    byte[] b = a.getAddress();
    boolean tailscale = (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64;
    return !tailscale;
  }
}
