package dev.derphole.derp.client;

import java.io.IOException;
import java.util.List;

/**
 * The DERP nodes of one region in map order, and how a client picks one the way Tailscale's does:
 * every dial starts from the first node and takes the first that answers. A region of several
 * meshed relays thus keeps its clients on the first node while it is up, and moves them to the
 * next when it is not; which node a client sits on does not matter to its peers, since the relays
 * forward between each other.
 */
public final class RegionNodes {
  private final List<DerpEndpoint> nodes;

  private RegionNodes(List<DerpEndpoint> nodes) {
    if (nodes.isEmpty()) {
      throw new IllegalArgumentException("a region needs at least one DERP node");
    }
    this.nodes = List.copyOf(nodes);
  }

  public static RegionNodes of(DerpEndpoint only) {
    return new RegionNodes(List.of(only));
  }

  /** {@code nodes} in the map's order (STUN-only nodes already left out). */
  public static RegionNodes of(List<DerpEndpoint> nodes) {
    return new RegionNodes(nodes);
  }

  public DerpEndpoint first() {
    return nodes.get(0);
  }

  public List<DerpEndpoint> all() {
    return nodes;
  }

  /** One dial of one node. */
  @FunctionalInterface
  public interface Dial {
    DerpClient dial(DerpEndpoint node) throws IOException;
  }

  /**
   * Dials the nodes in order and returns the first connection made. When every node fails, throws
   * the first node's certificate refusal if there was one (waiting will not cure it), else the
   * last node's failure.
   */
  public DerpClient dial(Dial dial) throws IOException {
    IOException last = null;
    RelayCertificateException refused = null;
    for (DerpEndpoint node : nodes) {
      try {
        return dial.dial(node);
      } catch (RelayCertificateException e) {
        refused = refused != null ? refused : e;
        last = e;
      } catch (IOException e) {
        last = e;
      }
    }
    throw refused != null ? refused : last;
  }

  @Override
  public String toString() {
    return nodes.size() == 1 ? first().toString() : first() + " (+" + (nodes.size() - 1) + " more in the region)";
  }
}
