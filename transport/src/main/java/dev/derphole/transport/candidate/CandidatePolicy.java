package dev.derphole.transport.candidate;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which candidate addresses a peer may ask us to send UDP to. A peer's bad candidate is dropped,
 * never fatal: the path still works over the relay.
 *
 * <p>Kept: canonical {@link Candidate} text, in order, duplicates removed, at most {@value
 * #MAX_CANDIDATES}. Dropped: unspecified ({@code 0.0.0.0}, {@code ::}), multicast, IPv4
 * broadcast, IPv6 link-local (a candidate carries no scope, and without one nobody can send
 * there), and loopback unless {@code allowLoopback} (tests that run both peers on one machine).
 */
public final class CandidatePolicy {
  /** Most candidates kept from one message. */
  public static final int MAX_CANDIDATES = 32;

  private static final byte[] BROADCAST = {(byte) 255, (byte) 255, (byte) 255, (byte) 255};

  private CandidatePolicy() {}

  /** The acceptable candidates of {@code raw}, in order, at most {@value #MAX_CANDIDATES}. */
  public static List<String> filter(List<String> raw, boolean allowLoopback) {
    Set<String> kept = new LinkedHashSet<>();
    for (String text : raw) {
      if (kept.size() == MAX_CANDIDATES) {
        break;
      }
      Optional<InetSocketAddress> parsed = Candidate.parse(text);
      if (parsed.isPresent() && allowed(parsed.get().getAddress(), allowLoopback)) {
        kept.add(text);
      }
    }
    return List.copyOf(kept);
  }

  private static boolean allowed(InetAddress ip, boolean allowLoopback) {
    if (ip.isAnyLocalAddress() || ip.isMulticastAddress() || ip instanceof java.net.Inet6Address && ip.isLinkLocalAddress()) {
      return false;
    }
    if (ip instanceof Inet4Address && Arrays.equals(ip.getAddress(), BROADCAST)) {
      return false;
    }
    return allowLoopback || !ip.isLoopbackAddress();
  }
}
