package dev.derphole.transport.portmap;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Where on the gateway the protocols listen. {@link #STANDARD} in production; tests point these at
 * fake servers on loopback ports.
 *
 * @param portControl PCP and NAT-PMP (both 5351)
 * @param ssdp SSDP (1900), searched unicast at the gateway
 * @param ssdpMulticast whether to search the SSDP multicast group as well
 */
record GatewayPorts(int portControl, int ssdp, boolean ssdpMulticast) {
  static final GatewayPorts STANDARD = new GatewayPorts(Pcp.PORT, Ssdp.PORT, true);

  GatewayPorts {
    if (portControl < 1 || portControl > 0xffff || ssdp < 1 || ssdp > 0xffff) {
      throw new IllegalArgumentException("ports must be 1..65535, got " + portControl + " and " + ssdp);
    }
  }

  List<InetSocketAddress> ssdpTargets(InetAddress gateway) {
    List<InetSocketAddress> targets = new ArrayList<>();
    targets.add(new InetSocketAddress(gateway, ssdp));
    if (ssdpMulticast) {
      targets.add(new InetSocketAddress(Ssdp.MULTICAST.getAddress(), ssdp));
    }
    return targets;
  }
}
