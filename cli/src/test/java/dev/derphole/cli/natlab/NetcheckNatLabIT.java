package dev.derphole.cli.natlab;

import static dev.derphole.cli.natlab.NatLab.Kind.EIM_APDF;
import static dev.derphole.cli.natlab.NatLab.Kind.EIM_EIF;
import static dev.derphole.cli.natlab.NatLab.Kind.NONE;
import static dev.derphole.cli.natlab.NatLab.Kind.SYMMETRIC;
import static dev.derphole.cli.natlab.NatLab.Kind.UDP_BLOCKED;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code derphole netcheck --json} (and {@code derptun netcheck}) on both hosts of the lab, for
 * every NAT kind, with and without miniupnpd: the mapping verdict (from our derper's two STUN
 * ports, {@code --stun-port2}), which port-mapping protocols the router grants and the mapping a
 * session would get, the relay region's latency and the one-line verdict. Every mapping netcheck
 * made is gone from the router's rules once it exits.
 */
class NetcheckNatLabIT {
  static final Duration RUN = Duration.ofSeconds(60);
  static final List<String> ALL_PROTOCOLS = List.of("pcp", "nat-pmp", "upnp");

  @TempDir Path dir;

  @BeforeAll
  static void lab() {
    NatLab.assumeAvailable();
  }

  /** What one host must see. */
  record Expected(String mapping, List<String> offered, boolean granted, boolean udp, String verdict) {}

  @Test
  void endpointIndependentNatsGoDirectLikely() throws Exception {
    check(EIM_EIF, EIM_APDF, NatLab.Options.NONE,
        new Expected("endpoint-independent", List.of(), false, true, "likely"),
        new Expected("endpoint-independent", List.of(), false, true, "likely"));
  }

  @Test
  void aSymmetricNatIsHardAndBlockedUdpIsRelayOnly() throws Exception {
    check(SYMMETRIC, UDP_BLOCKED, NatLab.Options.NONE,
        new Expected("endpoint-dependent", List.of(), false, true, "only-with-easy-peers"),
        new Expected("unknown", List.of(), false, false, "relay-only"));
  }

  @Test
  void aPortMappingMakesASymmetricNatLikelyButNotBlockedUdp() throws Exception {
    NatLab.assumeUpnp();
    check(SYMMETRIC, UDP_BLOCKED, NatLab.Options.NONE.withUpnp(NatLab.Site.A).withUpnp(NatLab.Site.B),
        new Expected("endpoint-dependent", ALL_PROTOCOLS, true, true, "likely"),
        new Expected("unknown", ALL_PROTOCOLS, true, false, "relay-only"));
  }

  @Test
  void aPortRestrictedNatWithMiniupnpdAndAPublicHost() throws Exception {
    NatLab.assumeUpnp();
    check(EIM_APDF, NONE, NatLab.Options.NONE.withUpnp(NatLab.Site.A),
        new Expected("endpoint-independent", ALL_PROTOCOLS, true, true, "likely"),
        new Expected("endpoint-independent", List.of(), false, true, "likely"));
  }

  private void check(NatLab.Kind a, NatLab.Kind b, NatLab.Options options, Expected onA, Expected onB) throws Exception {
    try (NatLab lab = NatLab.up(a, b, options)) {
      Path map = startRelay(lab);
      verify(lab, NatLab.Site.A, map, "derphole", onA);
      verify(lab, NatLab.Site.B, map, "derptun", onB);
    }
  }

  /** Our derper on the lab's internet with STUN on two ports; returns its DERP map. */
  private Path startRelay(NatLab lab) throws Exception {
    Path root = Path.of(System.getProperty("derphole.root", ".")).toAbsolutePath();
    Path map = dir.resolve("map.json");
    lab.exec(NatLab.Node.INET, List.of("sh", "-c", "exec " + root.resolve("bin/derper") + " --listen "
        + NatLab.RELAY + ":8443 --stun-port 3478 --stun-port2 3479 --derp-map-out " + map
        + " > " + dir.resolve("relay.out") + " 2> " + dir.resolve("relay.err")));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Files.exists(map)) {
      assertThat(System.nanoTime()).as("the relay wrote its map; stderr: %s",
          Files.exists(dir.resolve("relay.err")) ? Files.readString(dir.resolve("relay.err")) : "").isLessThan(deadline);
      Thread.sleep(20);
    }
    return map;
  }

  private void verify(NatLab lab, NatLab.Site site, Path map, String tool, Expected want) throws Exception {
    Path root = Path.of(System.getProperty("derphole.root", ".")).toAbsolutePath();
    List<String> cmd = new ArrayList<>(List.of("env", "-u", "HTTPS_PROXY", "-u", "https_proxy", "-u", "ALL_PROXY",
        "-u", "all_proxy", "DERPHOLE_DERP_MAP=" + map, root.resolve("bin/" + tool).toString(), "netcheck", "--json"));
    String out = lab.run(site.host(), cmd, RUN);
    String what = tool + " netcheck on " + lab.kind(site) + " (site " + site + "): " + out;
    assertThat(out.lines().count()).as("one JSON object on one line: %s", what).isEqualTo(1);
    JsonNode j = new ObjectMapper().readTree(out);
    assertThat(j.get("udp").asBoolean()).as(what).isEqualTo(want.udp());
    assertThat(j.get("mapping").asText()).as(what).isEqualTo(want.mapping());
    List<String> offered = new ArrayList<>();
    j.get("portMapping").get("offered").forEach(p -> offered.add(p.asText()));
    assertThat(offered).as(what).containsExactlyInAnyOrderElementsOf(want.offered());
    JsonNode granted = j.get("portMapping").get("granted");
    if (want.granted()) {
      assertThat(granted.get("protocol").asText()).as(what).isIn(ALL_PROTOCOLS);
      assertThat(granted.get("external").asText()).as(what).startsWith(site.wan + ":");
    } else {
      assertThat(granted.isNull()).as(what).isTrue();
    }
    assertThat(j.get("verdict").asText()).as(what).isEqualTo(want.verdict());
    assertThat(j.get("summary").asText()).as(what).isEqualTo("direct connections: " + switch (want.verdict()) {
      case "likely" -> "likely";
      case "only-with-easy-peers" -> "only with easy peers";
      default -> "relay only";
    });
    if (want.udp()) {
      assertThat(j.get("ipv4").asText()).as(what).startsWith(site.wan + ":");
      assertThat(j.get("stunServersAnswered").asInt()).as(what).isEqualTo(2);
    } else {
      assertThat(j.get("ipv4").isNull()).as(what).isTrue();
    }
    JsonNode region = j.get("regions").get(0);
    assertThat(region.get("id").asInt()).as(what).isEqualTo(900);
    assertThat(j.get("preferredRegion").asInt()).as(what).isEqualTo(900);
    assertThat(region.get("latencyMs").isNumber()).as(what).isTrue();
    assertThat(region.get("via").asText()).as(what).isEqualTo(want.udp() ? "stun" : "tcp");
    if (lab.kind(site) != NONE && !want.offered().isEmpty()) {
      String rules = lab.run(site.router(), List.of("nft", "list", "chain", "inet", "dhl", "upnp_prerouting"), RUN);
      assertThat(rules).as("every test mapping was deleted again: %s", rules).doesNotContain("dnat");
    }
  }
}
