package dev.derphole.session.rendezvous;

import dev.derphole.derp.net.IpLiteral;

import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.client.RegionNodes;
import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.map.DerpRegion;
import dev.derphole.derp.stun.StunClient;
import dev.derphole.derp.tls.DerpTls;
import dev.derphole.session.SessionException;
import dev.derphole.session.token.CustomRelay;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.Token;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Chooses the relay. The issuer picks the region with the lowest STUN round trip from a quick
 * parallel probe of every region (falling back to the lowest region id when nothing answers in
 * time) and writes it into the token; with a map that is not the public one it also writes the
 * node itself, so the claimant needs no flags. The claimant dials what the token says.
 */
public final class RelayPicker {
  /** How long the issuer spends probing before it picks. */
  public static final Duration PROBE_BUDGET = Duration.ofMillis(700);

  private RelayPicker() {}

  /** Where to meet, and which STUN servers tell us our public address. */
  public record Choice(DerpEndpoint endpoint, RelayHint hint, String label, List<InetSocketAddress> stunServers,
                       RegionNodes nodes) {
    /** One node only. */
    public Choice(DerpEndpoint endpoint, RelayHint hint, String label, List<InetSocketAddress> stunServers) {
      this(endpoint, hint, label, stunServers, RegionNodes.of(endpoint));
    }
  }

  /** The region's DERP nodes in map order: a client takes the first that answers ({@link RegionNodes}). */
  static RegionNodes nodes(DerpRegion region) {
    return RegionNodes.of(region.derpNodes().stream().map(DerpEndpoint::of).toList());
  }

  public static Choice forIssuer(DerpMap map, boolean customMap, Duration probeBudget) throws SessionException {
    List<DerpRegion> regions = map.regionsById();
    if (regions.isEmpty()) {
      throw new SessionException("the DERP map has no region with a DERP server");
    }
    DerpRegion region = regions.size() == 1 ? regions.get(0) : fastest(regions, probeBudget).orElse(regions.get(0));
    DerpNode node = region.derpNodes().get(0);
    Optional<CustomRelay> custom = customMap ? Optional.of(customRelay(node)) : Optional.empty();
    return new Choice(DerpEndpoint.of(node), new RelayHint(region.regionId(), custom),
        "region " + region.regionId() + " (" + region.regionCode() + ") " + node.hostName(), stunServers(region),
        nodes(region));
  }

  /** The region's STUN servers, literal addresses only (resolving names here could stall a start). */
  static List<InetSocketAddress> stunServers(DerpRegion region) {
    List<InetSocketAddress> out = new ArrayList<>();
    for (DerpNode n : region.nodes()) {
      OptionalInt port = n.effectiveStunPort();
      if (port.isEmpty()) {
        continue;
      }
      for (String ip : List.of(n.ipv4(), n.ipv6())) {
        if (IpLiteral.parse(ip).isPresent()) {
          try {
            out.add(new InetSocketAddress(InetAddress.getByName(ip), port.getAsInt()));
          } catch (java.net.UnknownHostException e) {
            // not an address after all
          }
        }
      }
      if (n.ipv4().isEmpty() && n.ipv6().isEmpty()) {
        out.add(InetSocketAddress.createUnresolved(n.hostName(), port.getAsInt()));
      }
    }
    return out;
  }

  /**
   * Where the claimant finds the issuer: the token's own relay, or its region in the map. When the
   * claimant has a map of its own ({@code customMap}) that holds the token's relay, that node's
   * settings win (its CertName, InsecureForTests): a listener and a claimant that share a map always
   * agree on the relay's certificate, and a map the user regenerated corrects a stale pin.
   */
  public static Choice forClaimant(Token token, MapLoader maps, boolean customMap) throws SessionException {
    RelayHint hint = token.relay();
    if (hint.custom().isPresent()) {
      CustomRelay c = hint.custom().get();
      List<InetSocketAddress> stun = new ArrayList<>();
      if (c.stunPort().isPresent()) {
        stun.add(c.ipLiteral().map(ip -> new InetSocketAddress(ip, c.stunPort().getAsInt()))
            .orElse(InetSocketAddress.createUnresolved(c.host(), c.stunPort().getAsInt())));
      }
      DerpMap own = customMap ? maps.load() : null;
      Optional<DerpNode> same = own != null ? sameRelay(own, c) : Optional.empty();
      if (same.isPresent()) { // our map knows the token's relay: its region's nodes, in our map's order
        DerpRegion region = own.region(same.get().regionId()).orElseThrow();
        return new Choice(DerpEndpoint.of(same.get()), hint, "the token's relay " + c.host(), stun, nodes(region));
      }
      return new Choice(endpoint(c), hint, "the token's relay " + c.host(), stun);
    }
    DerpMap map = maps.load();
    Optional<DerpRegion> region = map.region(hint.regionId()).filter(r -> !r.derpNodes().isEmpty());
    if (region.isEmpty()) {
      throw new SessionException("the token's relay region " + hint.regionId()
          + " is not in this DERP map; use the same --derp-map as the other side");
    }
    DerpNode node = region.get().derpNodes().get(0);
    return new Choice(DerpEndpoint.of(node), hint, "region " + hint.regionId() + " " + node.hostName(),
        stunServers(region.get()), nodes(region.get()));
  }

  private static Optional<DerpNode> sameRelay(DerpMap map, CustomRelay relay) {
    return map.regionsById().stream().flatMap(r -> r.derpNodes().stream())
        .filter(n -> n.hostName().equals(relay.host()) && n.effectiveDerpPort() == relay.port() && n.plainHttp() != relay.tls())
        .findFirst();
  }

  /** Loads the DERP map only when it is needed. */
  @FunctionalInterface
  public interface MapLoader {
    DerpMap load() throws SessionException;
  }

  static CustomRelay customRelay(DerpNode node) {
    Optional<byte[]> pin = Optional.empty();
    if (node.certName().startsWith(DerpTls.SHA256_RAW)) {
      pin = Optional.of(HexFormat.of().parseHex(node.certName().substring(DerpTls.SHA256_RAW.length())));
    }
    Optional<String> ip = Optional.empty();
    for (String candidate : List.of(node.ipv4(), node.ipv6())) {
      if (IpLiteral.parse(candidate).isPresent()) {
        ip = Optional.of(candidate);
        break;
      }
    }
    return new CustomRelay(node.hostName(), node.effectiveDerpPort(), !node.plainHttp(), pin, ip,
        node.effectiveStunPort());
  }

  static DerpEndpoint endpoint(CustomRelay relay) throws SessionException {
    List<InetSocketAddress> addresses = new ArrayList<>();
    if (relay.ipLiteral().isPresent()) {
      try {
        addresses.add(new InetSocketAddress(InetAddress.getByName(relay.ipLiteral().get()), relay.port()));
      } catch (java.net.UnknownHostException e) {
        throw new SessionException("the token's relay address " + relay.ipLiteral().get() + " is not an IP address");
      }
    }
    String certName = relay.certSha256().map(b -> DerpTls.SHA256_RAW + HexFormat.of().formatHex(b)).orElse("");
    return new DerpEndpoint(relay.host(), relay.port(), relay.tls(), addresses, certName, false);
  }

  private static Optional<DerpRegion> fastest(List<DerpRegion> regions, Duration budget) {
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(regions.size(), 32), r -> {
      Thread t = new Thread(r, "derp-region-probe");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<Long>> rtts = new ArrayList<>();
      for (DerpRegion r : regions) {
        rtts.add(pool.submit(() -> probe(r, budget)));
      }
      DerpRegion best = null;
      long bestRtt = Long.MAX_VALUE;
      long deadline = System.nanoTime() + budget.toNanos() + 100_000_000L;
      for (int i = 0; i < regions.size(); i++) {
        try {
          long rtt = rtts.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          if (rtt < bestRtt) {
            bestRtt = rtt;
            best = regions.get(i);
          }
        } catch (Exception e) {
          // no answer from that region in time
        }
      }
      return Optional.ofNullable(best);
    } finally {
      pool.shutdownNow();
    }
  }

  /** STUN round trip to a region's first STUN-capable node, in nanoseconds; MAX_VALUE when it does not answer. */
  private static long probe(DerpRegion region, Duration budget) {
    for (DerpNode node : region.nodes()) {
      OptionalInt port = node.effectiveStunPort();
      if (port.isEmpty()) {
        continue;
      }
      try (DatagramSocket s = new DatagramSocket()) {
        List<InetSocketAddress> addrs = node.dialAddresses(false);
        if (addrs.isEmpty()) {
          continue;
        }
        InetSocketAddress target = new InetSocketAddress(addrs.get(0).getAddress(), port.getAsInt());
        long start = System.nanoTime();
        if (StunClient.query(s, target, budget).isPresent()) {
          return System.nanoTime() - start;
        }
      } catch (Exception e) {
        // try the next node
      }
      return Long.MAX_VALUE;
    }
    return Long.MAX_VALUE;
  }
}
