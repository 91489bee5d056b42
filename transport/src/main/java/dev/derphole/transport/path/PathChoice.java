package dev.derphole.transport.path;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/**
 * Which of two of the peer's addresses that both answer {@link DirectPath}'s probes it sends to.
 *
 * <p>By latency, whatever the family: an address whose pong came back in under {@link
 * #SWITCH_IF_FASTER} of the round trip of the one in use replaces it. Between addresses of about
 * the same round trip IPv6 wins: no NAT sits on it whose mapping can time out or be rebound under
 * us (a dual-stack peer's IPv4 is often behind a NAT, its IPv6 behind a stateful firewall only).
 * So an IPv6 address takes over from an IPv4 one unless it is more than 1 / {@code
 * SWITCH_IF_FASTER} times slower, and an IPv4 address takes over from an IPv6 one only when it is
 * faster by the full margin. The two rules never both hold, so two live paths do not flap.
 */
final class PathChoice {
  static final double SWITCH_IF_FASTER = 0.7;

  private PathChoice() {}

  /** Whether {@code candidate}, answering in {@code rtt} ns, should replace {@code current}, of {@code currentRtt} ns. */
  static boolean better(InetSocketAddress candidate, long rtt, InetSocketAddress current, long currentRtt) {
    if (isIpv6(candidate) && !isIpv6(current)) {
      return rtt * SWITCH_IF_FASTER <= currentRtt;
    }
    return rtt < currentRtt * SWITCH_IF_FASTER;
  }

  /** Why {@link #better} said yes, for the event line. */
  static String why(long rtt, long currentRtt) {
    return rtt < currentRtt * SWITCH_IF_FASTER ? "faster than " : "IPv6, about as fast as ";
  }

  private static boolean isIpv6(InetSocketAddress a) {
    return a.getAddress() instanceof Inet6Address;
  }
}
