package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * A port the NAT gateway forwards to our session's UDP port.
 *
 * @param protocol how it was obtained: {@link #UPNP}, {@link #NAT_PMP} or {@link #PCP}
 * @param external the address and port peers on the far side of the gateway send to
 * @param lifetime how long the gateway keeps it without a renewal; {@link PortMapper} renews it at
 *     half of that. A UPnP mapping the gateway only grants without expiry reports the hour after
 *     which it is added again (to survive a gateway reboot).
 */
public record Mapping(String protocol, InetSocketAddress external, Duration lifetime) {
  public static final String UPNP = "upnp";
  public static final String NAT_PMP = "nat-pmp";
  public static final String PCP = "pcp";

  private static final Set<String> PROTOCOLS = Set.of(UPNP, NAT_PMP, PCP);

  public Mapping {
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(external, "external");
    Objects.requireNonNull(lifetime, "lifetime");
    if (!PROTOCOLS.contains(protocol)) {
      throw new IllegalArgumentException("protocol must be one of " + PROTOCOLS + ", got " + protocol);
    }
    if (external.isUnresolved()) {
      throw new IllegalArgumentException("external address is unresolved: " + external);
    }
    if (lifetime.isNegative() || lifetime.isZero()) {
      throw new IllegalArgumentException("lifetime must be positive, got " + lifetime);
    }
  }

  /** Whether {@code other} is the same forwarding; a different lifetime does not matter. */
  boolean sameForwarding(Mapping other) {
    return other != null && protocol.equals(other.protocol) && external.equals(other.external);
  }

  /** For logs: {@code pcp external=203.0.113.7:41641 lifetime=7200s}. */
  String describe() {
    return protocol + " external=" + IpLiteral.format(external) + " lifetime=" + lifetime.toSeconds() + "s";
  }
}
