package dev.derphole.derp.map;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class DerpMapJsonRoundTripTest {

    @Property(tries = 300)
    void toJsonThenParseGivesTheSameMap(@ForAll("maps") DerpMap map) throws Exception {
        assertThat(DerpMap.parse(map.toJson())).isEqualTo(map);
    }

    @Example
    void writesGoFieldNamesAndLeavesOutEmptyOnes() {
        DerpNode plain = new DerpNode("1f", 1, "derp1f.tailscale.com", "", "", "", 0, false, 0, false, false);
        DerpNode full = new DerpNode("1g", 1, "derp1g.tailscale.com", "sha256-raw:ab", "192.0.2.1", "none",
                -1, true, 8443, true, true);
        DerpRegion region = new DerpRegion(1, "nyc", "New York City", true, true, List.of(plain, full));
        DerpMap map = new DerpMap(new TreeMap<>(java.util.Map.of(1, region)), true);

        assertThat(map.toJson()).isEqualTo("{\"Regions\":{\"1\":{\"RegionID\":1,\"RegionCode\":\"nyc\","
                + "\"RegionName\":\"New York City\",\"Avoid\":true,\"NoMeasureNoHome\":true,\"Nodes\":["
                + "{\"Name\":\"1f\",\"RegionID\":1,\"HostName\":\"derp1f.tailscale.com\"},"
                + "{\"Name\":\"1g\",\"RegionID\":1,\"HostName\":\"derp1g.tailscale.com\","
                + "\"CertName\":\"sha256-raw:ab\",\"IPv4\":\"192.0.2.1\",\"IPv6\":\"none\",\"STUNPort\":-1,"
                + "\"STUNOnly\":true,\"DERPPort\":8443,\"InsecureForTests\":true,\"CanPort80\":true}]}},"
                + "\"omitDefaultRegions\":true}");
    }

    @Example
    void anEmptyMapStillWritesRegions() {
        assertThat(new DerpMap(new TreeMap<>(), false).toJson()).isEqualTo("{\"Regions\":{}}");
    }

    @Provide
    Arbitrary<DerpMap> maps() {
        Arbitrary<DerpRegion> regions = Arbitraries.integers().between(1, 2000).flatMap(this::region);
        return Combinators.combine(
                        regions.list().ofMaxSize(6).uniqueElements(DerpRegion::regionId),
                        Arbitraries.of(true, false))
                .as((list, omit) -> {
                    TreeMap<Integer, DerpRegion> byId = new TreeMap<>();
                    list.forEach(region -> byId.put(region.regionId(), region));
                    return new DerpMap(byId, omit);
                });
    }

    private Arbitrary<DerpRegion> region(int regionId) {
        return Combinators.combine(
                        Arbitraries.strings().ofMaxLength(5),
                        Arbitraries.strings().ofMaxLength(20), // any text, to exercise JSON escaping
                        Arbitraries.of(true, false),
                        Arbitraries.of(true, false),
                        node(regionId).list().ofMaxSize(4))
                .as((code, name, avoid, noMeasure, nodes) ->
                        new DerpRegion(regionId, code, name, avoid, noMeasure, nodes));
    }

    private Arbitrary<DerpNode> node(int regionId) {
        Arbitrary<String> hostName = Arbitraries.oneOf(
                Arbitraries.strings().withCharRange('a', 'z').numeric().withChars('.', '-').ofMinLength(1)
                        .ofMaxLength(30),
                Arbitraries.of("127.0.0.1", "2001:db8::1"));
        Arbitrary<String> ipv4 = Arbitraries.of("", "none", "192.0.2.1", "10.0.0.255", "2001:db8::2");
        Arbitrary<String> ipv6 = Arbitraries.of("", "none", "2001:db8::3", "::1", "192.0.2.4");
        Arbitrary<Integer> port = Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.integers().between(1, 65535));
        Arbitrary<Integer> stunPort = Arbitraries.oneOf(Arbitraries.of(-1, 0), Arbitraries.integers().between(1, 65535));
        Arbitrary<Boolean> flag = Arbitraries.of(true, false);
        return Combinators.combine(
                        Arbitraries.strings().ofMaxLength(6), hostName, Arbitraries.of("", "sha256-raw:00ff"),
                        ipv4, ipv6, stunPort, flag, port)
                .flatAs((name, host, cert, v4, v6, stun, stunOnly, derp) ->
                        Combinators.combine(flag, flag, flag).as((insecure, port80, dropHost) ->
                                new DerpNode(name, regionId, stunOnly && dropHost ? "" : host, cert, v4, v6, stun,
                                        stunOnly, derp, insecure, port80)));
    }
}
