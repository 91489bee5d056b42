package dev.derphole.derp.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class DerpMapParseTest {

    /** Shaped like controlplane.tailscale.com/derpmap/default, plus a self-hosted region. */
    private static final String TAILSCALE_SHAPED = """
            {
              "HomeParams": {"RegionScore": {"1": 1.5, "2": 0.9}},
              "Regions": {
                "1": {
                  "RegionID": 1, "RegionCode": "nyc", "RegionName": "New York City",
                  "Latitude": 40.7128, "Longitude": -74.006,
                  "Nodes": [
                    {"Name": "1f", "RegionID": 1, "HostName": "derp1f.tailscale.com",
                     "IPv4": "192.0.2.10", "IPv6": "2001:db8::10", "CanPort80": true},
                    {"Name": "1g", "RegionID": 1, "HostName": "derp1g.tailscale.com", "CanPort80": true}
                  ]
                },
                "2": {
                  "RegionID": 2, "RegionCode": "sfo", "RegionName": "San Francisco", "NoMeasureNoHome": true,
                  "Nodes": [{"Name": "2d", "RegionID": 2, "HostName": "derp2d.tailscale.com",
                             "STUNTestIP": "192.0.2.20", "SomeFutureField": {"x": [1, 2]}}]
                },
                "3": {
                  "RegionID": 3, "RegionCode": "stun", "RegionName": "STUN only", "Avoid": true,
                  "Nodes": [{"Name": "3a", "RegionID": 3, "STUNOnly": true, "IPv4": "192.0.2.30",
                             "IPv6": "none", "STUNPort": 3479}]
                },
                "900": {
                  "RegionID": 900, "RegionCode": "home", "RegionName": "Home lab",
                  "Nodes": [{"Name": "900a", "RegionID": 900, "HostName": "203.0.113.7", "DERPPort": 8443,
                             "STUNPort": -1, "CertName": "sha256-raw:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                             "InsecureForTests": false}]
                }
              }
            }
            """;

    @Test
    void parsesTheTailscaleShape() throws Exception {
        DerpMap map = DerpMap.parse(TAILSCALE_SHAPED);

        assertThat(map.regions()).containsOnlyKeys(1, 2, 3, 900);
        assertThat(map.omitDefaultRegions()).isFalse();

        DerpRegion nyc = map.region(1).orElseThrow();
        assertThat(nyc.regionCode()).isEqualTo("nyc");
        assertThat(nyc.regionName()).isEqualTo("New York City");
        assertThat(nyc.nodes()).extracting(DerpNode::name).containsExactly("1f", "1g");
        assertThat(nyc.nodes().get(0)).isEqualTo(new DerpNode("1f", 1, "derp1f.tailscale.com", "",
                "192.0.2.10", "2001:db8::10", 0, false, 0, false, true));

        assertThat(map.region(2).orElseThrow().noMeasureNoHome()).isTrue();
        DerpRegion stun = map.region(3).orElseThrow();
        assertThat(stun.avoid()).isTrue();
        assertThat(stun.nodes().get(0).stunOnly()).isTrue();
        assertThat(stun.nodes().get(0).hostName()).isEmpty();
        assertThat(stun.derpNodes()).isEmpty();

        DerpNode home = map.region(900).orElseThrow().nodes().get(0);
        assertThat(home.derpPort()).isEqualTo(8443);
        assertThat(home.stunPort()).isEqualTo(-1);
        assertThat(home.certName()).startsWith("sha256-raw:0011");
    }

    @Test
    void regionsByIdSkipsRegionsWithoutDerpNodes() throws Exception {
        DerpMap map = DerpMap.parse(TAILSCALE_SHAPED);

        assertThat(map.regionsById()).extracting(DerpRegion::regionId).containsExactly(1, 2, 900);
        assertThat(map.region(4)).isEmpty();
    }

    @Test
    void fieldNamesAreCaseInsensitiveAsHeadscaleWritesThem() throws Exception {
        DerpMap map = DerpMap.parse("""
                {"regions": {"901": {"regionid": 901, "regioncode": "hs", "regionname": "Headscale",
                  "nodes": [{"name": "901a", "regionid": 901, "hostname": "derp.example.com",
                             "ipv4": "198.51.100.1", "ipv6": "none", "stunport": 0, "stunonly": false,
                             "derpport": 443, "canport80": true}]}},
                 "omitDefaultRegions": true}
                """);

        assertThat(map.omitDefaultRegions()).isTrue();
        assertThat(map.region(901).orElseThrow().nodes()).containsExactly(new DerpNode("901a", 901,
                "derp.example.com", "", "198.51.100.1", "none", 0, false, 443, false, true));
    }

    @Test
    void missingIdsAreTakenFromTheRegionKey() throws Exception {
        DerpMap map = DerpMap.parse("""
                {"Regions": {"7": {"RegionCode": "tok", "Nodes": [{"Name": "7a", "HostName": "derp7.example"}]}}}
                """);

        assertThat(map.region(7).orElseThrow().nodes().get(0).regionId()).isEqualTo(7);
    }

    @Test
    void nullsCountAsAbsent() throws Exception {
        DerpMap map = DerpMap.parse("""
                {"Regions": {"1": {"RegionID": 1, "RegionCode": null,
                                   "Nodes": [{"Name": "1a", "HostName": "h.example", "IPv4": null}]},
                             "2": null}}
                """);

        assertThat(map.regions()).containsOnlyKeys(1);
        assertThat(map.region(1).orElseThrow().regionCode()).isEmpty();
    }

    @Test
    void emptyObjectIsAnEmptyMap() throws Exception {
        assertThat(DerpMap.parse("{}").regions()).isEmpty();
        assertThat(DerpMap.parse("{}").regionsById()).isEmpty();
    }

    @Test
    void rejectsTextThatIsNotJson() {
        assertThatThrownBy(() -> DerpMap.parse("<html>502 Bad Gateway</html>"))
                .isInstanceOf(DerpMapException.class)
                .hasMessageStartingWith("DERP map is not valid JSON at line 1, column 1: Unexpected character")
                .hasMessageNotContaining("\n");
        assertThatThrownBy(() -> DerpMap.parse("{\"Regions\": {}} trailing"))
                .hasMessageStartingWith("DERP map is not valid JSON");
        assertThatThrownBy(() -> DerpMap.parse("   ")).hasMessage("DERP map is empty");
        assertThatThrownBy(() -> DerpMap.parse("[1, 2]"))
                .hasMessage("DERP map must be a JSON object, got array [1,2]");
    }

    @Test
    void rejectsANodeWithoutHostName() {
        assertThatThrownBy(() -> DerpMap.parse("""
                {"Regions": {"1": {"RegionID": 1, "Nodes": [{"Name": "1a", "RegionID": 1, "IPv4": "192.0.2.1"}]}}}
                """))
                .isInstanceOf(DerpMapException.class)
                .hasMessage("region 1 node \"1a\": HostName is required (only STUNOnly nodes may leave it out)");
    }

    @Test
    void rejectsRegionIdZeroAndNegative() {
        assertThatThrownBy(() -> DerpMap.parse("""
                {"Regions": {"0": {"RegionID": 0, "Nodes": []}}}
                """)).hasMessage("region 0: RegionID must be positive");
        assertThatThrownBy(() -> DerpMap.parse("""
                {"Regions": {"-3": {"Nodes": []}}}
                """)).hasMessage("region -3: RegionID must be positive");
    }

    @Test
    void rejectsIdsThatDisagree() {
        assertThatThrownBy(() -> DerpMap.parse("""
                {"Regions": {"1": {"RegionID": 2, "Nodes": []}}}
                """)).hasMessage("region key 1 does not match its RegionID 2");
        assertThatThrownBy(() -> DerpMap.parse("""
                {"Regions": {"1": {"RegionID": 1, "Nodes": [{"Name": "2a", "RegionID": 2, "HostName": "h"}]}}}
                """)).hasMessage("region 1 node \"2a\": RegionID 2 does not match its region");
        assertThatThrownBy(() -> DerpMap.parse("""
                {"Regions": {"nyc": {"RegionID": 1}}}
                """)).hasMessage("region key \"nyc\" is not a region id");
        assertThatThrownBy(() -> DerpMap.parse("""
                {"Regions": {"1": {"RegionID": 1}, "01": {"RegionID": 1}}}
                """)).hasMessage("region 1 appears twice in Regions");
    }

    @Test
    void rejectsPortsOutOfRange() {
        assertThatThrownBy(() -> DerpMap.parse(node("\"DERPPort\": -1")))
                .hasMessage("region 1 node \"1a\": DERPPort -1 is out of range (0 means 443, else 1..65535)");
        assertThatThrownBy(() -> DerpMap.parse(node("\"DERPPort\": 65536")))
                .hasMessageContaining("DERPPort 65536 is out of range");
        assertThatThrownBy(() -> DerpMap.parse(node("\"STUNPort\": -2")))
                .hasMessage("region 1 node \"1a\": STUNPort -2 is out of range "
                        + "(-1 means none, 0 means 3478, else 1..65535)");
        assertThatThrownBy(() -> DerpMap.parse(node("\"STUNPort\": 99999999999")))
                .hasMessage("region 1 node \"1a\": STUNPort 99999999999 is out of range");
    }

    @Test
    void rejectsFieldsOfTheWrongType() {
        assertThatThrownBy(() -> DerpMap.parse(node("\"DERPPort\": \"443\"")))
                .hasMessage("region 1 node \"1a\": DERPPort must be a whole number, got string \"443\"");
        assertThatThrownBy(() -> DerpMap.parse(node("\"DERPPort\": 443.5")))
                .hasMessage("region 1 node \"1a\": DERPPort must be a whole number, got number 443.5");
        assertThatThrownBy(() -> DerpMap.parse(node("\"STUNOnly\": \"yes\"")))
                .hasMessage("region 1 node \"1a\": STUNOnly must be true or false, got string \"yes\"");
        assertThatThrownBy(() -> DerpMap.parse(node("\"IPv4\": 16909060")))
                .hasMessage("region 1 node \"1a\": IPv4 must be a string, got number 16909060");
        assertThatThrownBy(() -> DerpMap.parse("{\"Regions\": [1]}"))
                .hasMessage("DERP map: Regions must be an object keyed by region id, got array [1]");
        assertThatThrownBy(() -> DerpMap.parse("{\"Regions\": {\"1\": {\"Nodes\": {}}}}"))
                .hasMessage("region 1: Nodes must be an array, got object {}");
        assertThatThrownBy(() -> DerpMap.parse("{\"Regions\": {\"1\": {\"Nodes\": [null]}}}"))
                .hasMessage("region 1 Nodes[0] must be a JSON object, got null");
    }

    @Test
    void rejectsAHostNameThatCannotBeAUrlHost() {
        assertThatThrownBy(() -> DerpMap.parse(node("\"HostName\": \"derp.example.com/evil\"")))
                .hasMessage("region 1 node \"1a\": HostName \"derp.example.com/evil\" is not a host name or IP address");
    }

    @Test
    void errorsNameUnnamedNodes() {
        assertThatThrownBy(() -> DerpMap.parse("{\"Regions\": {\"5\": {\"Nodes\": [{}]}}}"))
                .hasMessageStartingWith("region 5 unnamed node: HostName is required");
    }

    @Test
    void constructorsRejectInconsistentModels() {
        DerpNode node = new DerpNode("1a", 1, "h.example", "", "", "", 0, false, 0, false, false);
        assertThatThrownBy(() -> new DerpRegion(2, "x", "x", false, false, List.of(node)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("region 1 node \"1a\" is listed in region 2");
        assertThatThrownBy(() -> DerpMap.singleRegion(2, "x", node))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(DerpMap.singleRegion(1, "lab", node).regionsById())
                .singleElement()
                .satisfies(region -> assertThat(region.derpNodes()).containsExactly(node));
    }

    /** A one-node map whose node has the given extra fields. */
    private static String node(String fields) {
        return "{\"Regions\": {\"1\": {\"RegionID\": 1, \"Nodes\": [{\"Name\": \"1a\", \"RegionID\": 1, "
                + "\"HostName\": \"derp1a.example\", " + fields + "}]}}}";
    }
}
