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

  /**
   * The one-region map of {@code nodes} (the relay's, or every node of its mesh), and a STUN-only
   * node on the relay's host when {@code port2} is not -1.
   */
  static DerpMap map(int regionId, String regionCode, List<DerpNode> nodes, int port2) {
    List<DerpNode> all = new ArrayList<>(nodes);
    if (port2 != -1) {
      DerpNode node = nodes.get(0);
      all.add(new DerpNode(regionId + String.valueOf((char) ('a' + nodes.size())), regionId, node.hostName(),
          node.certName(), node.ipv4(), node.ipv6(), port2, true, node.derpPort(), node.insecureForTests(), false,
          node.plainHttp()));
    }
    if (all.size() == 1) {
      return DerpMap.singleRegion(regionId, regionCode, all.get(0));
    }
    DerpRegion region = new DerpRegion(regionId, regionCode, regionCode, false, false, all);
    return new DerpMap(new TreeMap<>(Map.of(regionId, region)), false);
  }
}
