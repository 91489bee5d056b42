package dev.derphole.cli;

import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.map.DerpRegion;
import dev.derphole.derp.stun.StunServer;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code derper --stun-port2}: a second STUN socket beside the first, and the DERP map that lists
 * it as a STUN-only node of the relay's region ({@code <region>b}, same addresses, the second
 * port). A client that asks both from one socket sees one public port (endpoint-independent
 * mapping) or two (endpoint-dependent), which a single port cannot show. Tailscale's clients
 * read such a node as one more STUN server.
 */
final class SecondStun {
  private SecondStun() {}

  /** Binds the second port on the listen host; returns the port bound. */
  static int start(InetSocketAddress bind, int port, EventLoopGroup group) throws IOException {
    try {
      return StunServer.start(new InetSocketAddress(bind.getAddress(), port), group).localAddress().getPort();
    } catch (Exception e) {
      throw new IOException("cannot listen for STUN on udp port " + port + " (--stun-port2): " + Launcher.oneLine(e), e);
    }
  }

  /** The one-region map: the relay's node, and the STUN-only node when {@code port2} is not -1. */
  static DerpMap map(int regionId, String regionCode, DerpNode node, int port2) {
    if (port2 == -1) {
      return DerpMap.singleRegion(regionId, regionCode, node);
    }
    List<DerpNode> nodes = new ArrayList<>(List.of(node));
    nodes.add(new DerpNode(regionId + "b", regionId, node.hostName(), node.certName(), node.ipv4(), node.ipv6(),
        port2, true, node.derpPort(), node.insecureForTests(), false, node.plainHttp()));
    DerpRegion region = new DerpRegion(regionId, regionCode, regionCode, false, false, nodes);
    return new DerpMap(new TreeMap<>(Map.of(regionId, region)), false);
  }
}
