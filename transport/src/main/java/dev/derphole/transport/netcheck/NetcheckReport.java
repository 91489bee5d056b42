package dev.derphole.transport.netcheck;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.derphole.derp.net.IpLiteral;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What {@link Netcheck} found, and the one-line verdict drawn from it. {@link #toJson()} is the
 * documented {@code netcheck --json} object (README, "netcheck"); {@link #toText()} the human form.
 *
 * @param udp whether any STUN server answered over UDP
 * @param ipv4 our address and port as IPv4 STUN servers saw them; empty when none answered
 * @param ipv6 the same over IPv6
 * @param mapping how the NAT maps our UDP port, judged from the IPv4 answers
 * @param stunServersAnswered how many distinct STUN servers (address and port) answered over IPv4
 * @param portMapping the gateway's answer per protocol (PCP, NAT-PMP, UPnP)
 * @param granted the mapping a session would get for this UDP port (PortMapper), deleted since
 * @param regions every region, the chosen one first, then by latency; unmeasured ones last
 * @param preferredRegion the chosen region's id, when one answered
 */
public record NetcheckReport(boolean udp, Optional<InetSocketAddress> ipv4, Optional<InetSocketAddress> ipv6,
                             MappingBehaviour mapping, int stunServersAnswered, List<PortMappingAnswer> portMapping,
                             Optional<GrantedMapping> granted, List<RegionLatency> regions,
                             Optional<Integer> preferredRegion) {

  /** RFC 4787's two kinds that matter for hole punching, or unknown when fewer than two servers answered. */
  public enum MappingBehaviour {
    ENDPOINT_INDEPENDENT("endpoint-independent"),
    ENDPOINT_DEPENDENT("endpoint-dependent"),
    UNKNOWN("unknown");

    public final String json;

    MappingBehaviour(String json) {
      this.json = json;
    }
  }

  /** The one-line answer to "will this network go direct?". */
  public enum Verdict {
    LIKELY("likely", "direct connections: likely"),
    ONLY_WITH_EASY_PEERS("only-with-easy-peers", "direct connections: only with easy peers"),
    RELAY_ONLY("relay-only", "direct connections: relay only");

    public final String json;
    public final String line;

    Verdict(String json, String line) {
      this.json = json;
      this.line = line;
    }
  }

  public record PortMappingAnswer(String protocol, boolean offered, Optional<InetSocketAddress> external) {}

  public record GrantedMapping(String protocol, InetSocketAddress external, Duration lifetime) {}

  /** @param latency empty when the region did not answer; {@code via} says how it was measured */
  public record RegionLatency(int id, String code, String name, Optional<Duration> latency, String via) {}

  public NetcheckReport {
    portMapping = List.copyOf(portMapping);
    regions = List.copyOf(regions);
  }

  /**
   * No UDP: relay only. Endpoint-independent mapping, or any port mapping the gateway grants (a
   * peer then has a fixed address to punch to): likely. Otherwise (endpoint-dependent, or not
   * measurable with one STUN server): only a peer with an easy NAT can reach us directly.
   */
  public Verdict verdict() {
    if (!udp) {
      return Verdict.RELAY_ONLY;
    }
    if (mapping == MappingBehaviour.ENDPOINT_INDEPENDENT || granted.isPresent()) {
      return Verdict.LIKELY;
    }
    return Verdict.ONLY_WITH_EASY_PEERS;
  }

  /** Why the verdict is what it is, in a few words. */
  public String reason() {
    if (!udp) {
      return "no STUN server answered over UDP";
    }
    if (mapping == MappingBehaviour.ENDPOINT_INDEPENDENT) {
      return "the NAT keeps one public port for every destination";
    }
    if (granted.isPresent()) {
      return "the gateway grants a port mapping (" + protocolName(granted.get().protocol()) + ")";
    }
    if (mapping == MappingBehaviour.ENDPOINT_DEPENDENT) {
      return "hard NAT: a new public port per destination, and no port mapping";
    }
    return "fewer than two STUN servers answered, so the mapping could not be measured";
  }

  public String toJson() {
    ObjectMapper om = new ObjectMapper();
    ObjectNode o = om.createObjectNode();
    o.put("udp", udp);
    putEndpoint(o, "ipv4", ipv4);
    putEndpoint(o, "ipv6", ipv6);
    o.put("mapping", mapping.json);
    o.put("stunServersAnswered", stunServersAnswered);
    ObjectNode pm = o.putObject("portMapping");
    ArrayNode offered = pm.putArray("offered");
    portMapping.stream().filter(PortMappingAnswer::offered).forEach(a -> offered.add(a.protocol()));
    if (granted.isPresent()) {
      ObjectNode g = pm.putObject("granted");
      g.put("protocol", granted.get().protocol());
      g.put("external", IpLiteral.format(granted.get().external()));
      g.put("lifetimeSeconds", granted.get().lifetime().toSeconds());
    } else {
      pm.putNull("granted");
    }
    ArrayNode rs = o.putArray("regions");
    for (RegionLatency r : regions) {
      ObjectNode n = rs.addObject();
      n.put("id", r.id());
      n.put("code", r.code());
      n.put("name", r.name());
      if (r.latency().isPresent()) {
        n.put("latencyMs", Math.round(r.latency().get().toNanos() / 1e4) / 100.0);
        n.put("via", r.via());
      } else {
        n.putNull("latencyMs");
        n.putNull("via");
      }
    }
    if (preferredRegion.isPresent()) {
      o.put("preferredRegion", preferredRegion.get());
    } else {
      o.putNull("preferredRegion");
    }
    o.put("verdict", verdict().json);
    o.put("reason", reason());
    o.put("summary", verdict().line);
    return o.toString();
  }

  private static void putEndpoint(ObjectNode o, String name, Optional<InetSocketAddress> a) {
    if (a.isPresent()) {
      o.put(name, IpLiteral.format(a.get()));
    } else {
      o.putNull(name);
    }
  }

  /** The human report: one fact per line, the verdict last. */
  public String toText() {
    String nl = System.lineSeparator();
    StringBuilder b = new StringBuilder();
    b.append("UDP: ").append(udp ? "yes" : "no (blocked, or no STUN server answered)").append(nl);
    b.append("IPv4: ").append(ipv4.map(IpLiteral::format).orElse("none seen")).append(nl);
    b.append("IPv6: ").append(ipv6.map(IpLiteral::format).orElse("none seen")).append(nl);
    b.append("Mapping: ").append(switch (mapping) {
      case ENDPOINT_INDEPENDENT -> "endpoint-independent (the same public port from " + stunServersAnswered + " STUN servers)";
      case ENDPOINT_DEPENDENT -> "endpoint-dependent (hard NAT: a new public port per destination; direct only with a"
          + " port mapping or an easy peer)";
      case UNKNOWN -> udp ? "unknown (only one STUN server answered)" : "unknown (no UDP)";
    }).append(nl);
    List<String> offered = portMapping.stream().filter(PortMappingAnswer::offered)
        .map(a -> protocolName(a.protocol())).toList();
    b.append("Port mapping: ").append(offered.isEmpty() ? "none offered" : String.join(", ", offered));
    granted.ifPresent(g -> b.append("; granted ").append(IpLiteral.format(g.external())).append(" by ")
        .append(protocolName(g.protocol())).append(" (released)"));
    b.append(nl);
    b.append("Relay regions (the chosen one first):").append(nl);
    for (RegionLatency r : regions) {
      b.append(String.format(Locale.ROOT, "  %-5d %-12s %s%n", r.id(), r.code(),
          r.latency().map(d -> String.format(Locale.ROOT, "%.1f ms (%s)", d.toNanos() / 1e6, r.via()))
              .orElse("no answer")));
    }
    b.append(verdict().line).append(" (").append(reason()).append(")").append(nl);
    return b.toString();
  }

  static String protocolName(String protocol) {
    return switch (protocol) {
      case "pcp" -> "PCP";
      case "nat-pmp" -> "NAT-PMP";
      case "upnp" -> "UPnP-IGD";
      default -> protocol;
    };
  }
}
