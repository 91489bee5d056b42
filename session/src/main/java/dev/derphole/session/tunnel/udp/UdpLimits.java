package dev.derphole.session.tunnel.udp;

import java.time.Duration;

/**
 * How long an idle UDP flow lives and how many there may be at once: on {@code open}, client
 * addresses; on {@code serve}, sockets toward the target, over all clients together.
 */
public record UdpLimits(Duration idleTimeout, int maxFlows) {
  public static final Duration DEFAULT_IDLE = Duration.ofSeconds(60);
  public static final int DEFAULT_MAX_FLOWS = 256;
  public static final UdpLimits DEFAULT = new UdpLimits(DEFAULT_IDLE, DEFAULT_MAX_FLOWS);

  public UdpLimits {
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("the UDP idle timeout must be positive, got " + idleTimeout);
    }
    if (maxFlows < 1) {
      throw new IllegalArgumentException("the UDP flow limit must be at least 1, got " + maxFlows);
    }
  }

  /** How often idle flows are looked for: a flow closes between one and one and a half idle timeouts. */
  Duration sweep() {
    Duration half = idleTimeout.dividedBy(2);
    return half.compareTo(Duration.ofMillis(50)) < 0 ? Duration.ofMillis(50) : half;
  }
}
