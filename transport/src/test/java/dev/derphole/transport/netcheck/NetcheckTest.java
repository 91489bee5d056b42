package dev.derphole.transport.netcheck;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.map.DerpRegion;
import dev.derphole.derp.stun.StunServer;
import dev.derphole.transport.netcheck.NetcheckReport.GrantedMapping;
import dev.derphole.transport.netcheck.NetcheckReport.MappingBehaviour;
import dev.derphole.transport.netcheck.NetcheckReport.Verdict;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Netcheck against real STUN servers on loopback (no NAT there: one port for every server), the
 * verdict rules, and the JSON the README documents.
 */
class NetcheckTest {
  static EventLoopGroup group;
  static StunServer first;
  static StunServer second;
  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @BeforeAll
  static void servers() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    first = StunServer.start(new InetSocketAddress(LOOPBACK, 0), group);
    second = StunServer.start(new InetSocketAddress(LOOPBACK, 0), group);
  }

  @AfterAll
  static void stop() {
    first.close();
    second.close();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
  }

  static DerpMap map(int... stunPorts) {
    List<DerpNode> nodes = new ArrayList<>();
    nodes.add(new DerpNode("900a", 900, "127.0.0.1", "", "127.0.0.1", "none", stunPorts[0], false, 1, true, false));
    for (int i = 1; i < stunPorts.length; i++) {
      nodes.add(new DerpNode("900" + (char) ('a' + i), 900, "127.0.0.1", "", "127.0.0.1", "none", stunPorts[i], true, 1,
          true, false));
    }
    return new DerpMap(new TreeMap<>(Map.of(900, new DerpRegion(900, "lo", "loopback", false, false, nodes))), false);
  }

  static Netcheck.Options options() {
    return new Netcheck.Options(Duration.ofSeconds(2), false, null, line -> { });
  }

  @Test
  void twoStunPortsWithoutNatAreEndpointIndependent() throws Exception {
    NetcheckReport r = Netcheck.run(map(first.localAddress().getPort(), second.localAddress().getPort()), options());
    assertThat(r.udp()).isTrue();
    assertThat(r.stunServersAnswered()).isEqualTo(2);
    assertThat(r.mapping()).isEqualTo(MappingBehaviour.ENDPOINT_INDEPENDENT);
    assertThat(r.ipv4().orElseThrow().getAddress()).isEqualTo(LOOPBACK);
    assertThat(r.verdict()).isEqualTo(Verdict.LIKELY);
    assertThat(r.regions()).hasSize(1);
    assertThat(r.regions().get(0).latency()).isPresent();
    assertThat(r.preferredRegion()).contains(900);
  }

  @Test
  void oneStunServerCannotTellTheMapping() throws Exception {
    NetcheckReport r = Netcheck.run(map(first.localAddress().getPort()), options());
    assertThat(r.udp()).isTrue();
    assertThat(r.mapping()).isEqualTo(MappingBehaviour.UNKNOWN);
    assertThat(r.verdict()).isEqualTo(Verdict.ONLY_WITH_EASY_PEERS);
  }

  @Test
  void silentStunServersMeanNoUdpAndRelayOnly() throws Exception {
    int dead;
    try (DatagramSocket s = new DatagramSocket(0, LOOPBACK)) {
      dead = s.getLocalPort(); // closed again: nothing answers there
    }
    NetcheckReport r = Netcheck.run(map(dead), options());
    assertThat(r.udp()).isFalse();
    assertThat(r.ipv4()).isEmpty();
    assertThat(r.verdict()).isEqualTo(Verdict.RELAY_ONLY);
    assertThat(r.regions().get(0).latency()).as("no relay listens on port 1 either").isEmpty();
  }

  @Test
  void differentPortsPerServerAreEndpointDependent() {
    StunSweep.Target a = new StunSweep.Target(new InetSocketAddress(LOOPBACK, 3478), 1);
    StunSweep.Target b = new StunSweep.Target(new InetSocketAddress(LOOPBACK, 3479), 1);
    InetSocketAddress m1 = new InetSocketAddress("203.0.113.7", 4000);
    InetSocketAddress m2 = new InetSocketAddress("203.0.113.7", 4001);
    Duration rtt = Duration.ofMillis(1);
    assertThat(Netcheck.mappingOf(List.of(new StunSweep.Answer(a, m1, rtt), new StunSweep.Answer(b, m2, rtt))))
        .isEqualTo(MappingBehaviour.ENDPOINT_DEPENDENT);
    assertThat(Netcheck.mappingOf(List.of(new StunSweep.Answer(a, m1, rtt), new StunSweep.Answer(b, m1, rtt))))
        .isEqualTo(MappingBehaviour.ENDPOINT_INDEPENDENT);
    assertThat(Netcheck.mappingOf(List.of(new StunSweep.Answer(a, m1, rtt), new StunSweep.Answer(a, m2, rtt))))
        .as("one server twice is still one server").isEqualTo(MappingBehaviour.UNKNOWN);
  }

  @Test
  void aGrantedPortMappingMakesAHardNatLikelyButNotBlockedUdp() {
    Optional<GrantedMapping> g = Optional.of(new GrantedMapping("pcp", new InetSocketAddress("203.0.113.7", 4000),
        Duration.ofHours(2)));
    assertThat(report(true, MappingBehaviour.ENDPOINT_DEPENDENT, g).verdict()).isEqualTo(Verdict.LIKELY);
    assertThat(report(true, MappingBehaviour.ENDPOINT_DEPENDENT, Optional.empty()).verdict())
        .isEqualTo(Verdict.ONLY_WITH_EASY_PEERS);
    assertThat(report(false, MappingBehaviour.UNKNOWN, g).verdict()).isEqualTo(Verdict.RELAY_ONLY);
  }

  @Test
  void theJsonHasEveryDocumentedField() throws Exception {
    NetcheckReport r = new NetcheckReport(true, Optional.of(new InetSocketAddress("203.0.113.7", 41641)), Optional.empty(),
        MappingBehaviour.ENDPOINT_DEPENDENT, 2,
        List.of(new NetcheckReport.PortMappingAnswer("pcp", true, Optional.of(new InetSocketAddress("203.0.113.7", 5000))),
            new NetcheckReport.PortMappingAnswer("nat-pmp", false, Optional.empty()),
            new NetcheckReport.PortMappingAnswer("upnp", true, Optional.of(new InetSocketAddress("203.0.113.7", 5001)))),
        Optional.of(new GrantedMapping("pcp", new InetSocketAddress("203.0.113.7", 41641), Duration.ofHours(2))),
        List.of(new NetcheckReport.RegionLatency(1, "nyc", "New York City", Optional.of(Duration.ofNanos(12_345_000)), "stun"),
            new NetcheckReport.RegionLatency(2, "sfo", "San Francisco", Optional.empty(), "")),
        Optional.of(1));
    JsonNode j = new ObjectMapper().readTree(r.toJson());
    assertThat(j.fieldNames()).toIterable().containsExactly("udp", "ipv4", "ipv6", "mapping", "stunServersAnswered",
        "portMapping", "regions", "preferredRegion", "verdict", "reason", "summary");
    assertThat(j.get("ipv4").asText()).isEqualTo("203.0.113.7:41641");
    assertThat(j.get("ipv6").isNull()).isTrue();
    assertThat(j.get("mapping").asText()).isEqualTo("endpoint-dependent");
    assertThat(j.get("portMapping").get("offered").toString()).isEqualTo("[\"pcp\",\"upnp\"]");
    assertThat(j.get("portMapping").get("granted").toString())
        .isEqualTo("{\"protocol\":\"pcp\",\"external\":\"203.0.113.7:41641\",\"lifetimeSeconds\":7200}");
    assertThat(j.get("regions").get(0).toString())
        .isEqualTo("{\"id\":1,\"code\":\"nyc\",\"name\":\"New York City\",\"latencyMs\":12.35,\"via\":\"stun\"}");
    assertThat(j.get("regions").get(1).get("latencyMs").isNull()).isTrue();
    assertThat(j.get("verdict").asText()).isEqualTo("likely");
    assertThat(j.get("summary").asText()).isEqualTo("direct connections: likely");
    assertThat(r.toText()).endsWith("direct connections: likely (the gateway grants a port mapping (PCP))"
        + System.lineSeparator()).contains("Port mapping: PCP, UPnP-IGD; granted 203.0.113.7:41641 by PCP (released)");
  }

  @Test
  void aHugeMapIsAskedAtMostMaxStunTargetsServers() {
    List<DerpNode> nodes = new ArrayList<>();
    for (int i = 0; i < Netcheck.MAX_STUN_TARGETS + 50; i++) {
      nodes.add(new DerpNode("n" + i, 900, "h", "", "10.0." + (i / 250) + "." + (i % 250 + 1), "none", 3478, i > 0, 1,
          true, false));
    }
    DerpRegion region = new DerpRegion(900, "big", "big", false, false, nodes);
    assertThat(Netcheck.targets(List.of(region), java.net.Inet4Address.class)).hasSize(Netcheck.MAX_STUN_TARGETS);
  }

  private static NetcheckReport report(boolean udp, MappingBehaviour m, Optional<GrantedMapping> g) {
    return new NetcheckReport(udp, Optional.empty(), Optional.empty(), m, 2, List.of(), g, List.of(), Optional.empty());
  }
}
