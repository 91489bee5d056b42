package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class RouteTableTest {
  private static final String HEADER =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

  @Test
  void defaultRouteGatewayIsLittleEndianHex() {
    String table = HEADER
        + "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        + "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";

    assertThat(RouteTable.defaultGateway(table)).contains(address("192.168.1.1"));
  }

  @Test
  void lowestMetricWins() {
    String table = HEADER
        + "wlan0\t00000000\t0100000A\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        + "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";

    assertThat(RouteTable.defaultGateway(table)).contains(address("192.0.2.1"));
  }

  @Test
  void routesThatAreDownOrDirectOrNotDefaultDoNotCount() {
    String table = HEADER
        + "eth0\t00000000\t0101A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n" //  not RTF_UP
        + "eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n" //  no gateway (point-to-point)
        + "eth0\t0000000A\t0101A8C0\t0003\t0\t0\t0\t000000FF\t0\t0\t0\n"; // 10.0.0.0/8, not default

    assertThat(RouteTable.defaultGateway(table)).isEmpty();
  }

  @Test
  void emptyAndMalformedTablesHaveNoGateway() {
    assertThat(RouteTable.defaultGateway("")).isEmpty();
    assertThat(RouteTable.defaultGateway(HEADER)).isEmpty();
    assertThat(RouteTable.defaultGateway(HEADER + "eth0\tzzzz\t0101A8C0\t0003\t0\t0\t0\t00000000\n")).isEmpty();
    assertThat(RouteTable.defaultGateway("eth0 00000000\n")).isEmpty();
  }

  @Test
  void theRealTableParsesOrIsAbsent() {
    // Whatever this machine has: no exception, and an IPv4 address if anything.
    PortMapper.defaultGateway().ifPresent(gw -> assertThat(gw.getAddress()).hasSize(4));
  }

  @Test
  void withoutARouteTableTheGatewayIsGuessedAndWithOneItIsNot(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.util.Optional<InetAddress> guess = java.util.Optional.of(address("192.168.7.1"));
    assertThat(RouteTable.defaultGateway(dir.resolve("no-proc-net-route"), () -> guess)).as("macOS, Windows").isEqualTo(guess);
    java.nio.file.Path table = java.nio.file.Files.writeString(dir.resolve("route"),
        HEADER + "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
    assertThat(RouteTable.defaultGateway(table, () -> {
      throw new AssertionError("no guess where the table answers");
    })).contains(address("192.168.1.1"));
    java.nio.file.Path noDefault = java.nio.file.Files.writeString(dir.resolve("no-default"), HEADER);
    assertThat(RouteTable.defaultGateway(noDefault, () -> guess)).as("a table without a default route is believed").isEmpty();
  }

  @Test
  void theGuessIsTheFirstAddressOfAPrivateNetwork() {
    assertThat(RouteTable.guessedGateway(address("192.168.1.23"), 24)).contains(address("192.168.1.1"));
    assertThat(RouteTable.guessedGateway(address("10.20.30.40"), 16)).contains(address("10.20.0.1"));
    assertThat(RouteTable.guessedGateway(address("172.16.5.200"), 12)).contains(address("172.16.0.1"));
    assertThat(RouteTable.guessedGateway(address("192.168.1.1"), 24)).as("we are the first address").isEmpty();
    assertThat(RouteTable.guessedGateway(address("203.0.113.5"), 24)).as("a public address: no NAT of ours to map").isEmpty();
    assertThat(RouteTable.guessedGateway(address("192.168.1.23"), 31)).isEmpty();
    assertThat(RouteTable.guessedGateway(address("192.168.1.23"), 32)).isEmpty();
    assertThat(RouteTable.guessedGateway(address("fd00::5"), 64)).isEmpty();
  }

  @Test
  void localAddressTowardLoopbackIsLoopback() {
    assertThat(RouteTable.localAddressToward(InetAddress.getLoopbackAddress()))
        .contains(InetAddress.getLoopbackAddress());
  }

  /** A Linux host's {@code /proc/net/ipv6_route}: a router advertisement's default route and the rest. */
  private static final String IPV6_ROUTES = ""
      + "20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
      + "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
      + "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe80000000000000021122fffe334455 00000400 00000002 00000000 00450003    wlan0\n"
      + "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000064 00000001 00000000 00450003     eth0\n"
      + "00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001       lo\n"
      + "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";

  @Test
  void theIpv6DefaultGatewayIsTheLowestMetricNextHopOfTheDefaultRouteWithItsInterface() {
    assertThat(RouteTable.defaultGateway6(IPV6_ROUTES))
        .contains(new RouteTable.Ipv6NextHop(address("fe80::1"), "eth0"));
  }

  @Test
  void ipv6RoutesThatAreDownDirectRejectingOrNotDefaultDoNotCount() {
    String table = ""
        + "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000064 00000001 00000000 00450002     eth0\n" // not RTF_UP
        + "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n" // reject
        + "20010db8000000000000000000000000 20 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000064 00000001 00000000 00000003     eth0\n"; // 2001:db8::/32
    assertThat(RouteTable.defaultGateway6(table)).isEmpty();
    assertThat(RouteTable.defaultGateway6("")).isEmpty();
    assertThat(RouteTable.defaultGateway6("00000000000000000000000000000000 00 zz\n")).isEmpty();
    assertThat(RouteTable.defaultGateway6(IPV6_ROUTES.replace("00450003     eth0", "0045zz03     eth0")))
        .as("a malformed line is skipped, the next best kept")
        .contains(new RouteTable.Ipv6NextHop(address("fe80::211:22ff:fe33:4455"), "wlan0"));
  }

  @Test
  void aLinkLocalNextHopCarriesItsInterfaceScopeAndOneOnAMissingInterfaceIsDropped() throws Exception {
    java.net.NetworkInterface lo = java.net.NetworkInterface.getByInetAddress(InetAddress.getLoopbackAddress());
    InetAddress scoped = RouteTable.scoped(new RouteTable.Ipv6NextHop(address("fe80::1"), lo.getName())).orElseThrow();
    assertThat(((java.net.Inet6Address) scoped).getScopeId()).isEqualTo(lo.getIndex());
    assertThat(RouteTable.scoped(new RouteTable.Ipv6NextHop(address("fe80::1"), "no-such-nic0"))).isEmpty();
    assertThat(RouteTable.scoped(new RouteTable.Ipv6NextHop(address("2001:db8::1"), "no-such-nic0")))
        .as("a global next hop needs no scope").contains(address("2001:db8::1"));
  }

  @Test
  void withoutAnIpv6RouteTableThereIsNoIpv6Gateway(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    assertThat(RouteTable.defaultGateway6(dir.resolve("no-ipv6_route"))).as("macOS, Windows").isEmpty();
    java.nio.file.Path table = java.nio.file.Files.writeString(dir.resolve("ipv6_route"), IPV6_ROUTES);
    assertThat(RouteTable.defaultGateway6(table)).map(RouteTable.Ipv6NextHop::iface).contains("eth0");
    RouteTable.defaultGateway6(); // this machine's, whatever it is: no exception
  }

  private static InetAddress address(String literal) {
    return IpLiteral.parseHost(literal).orElseThrow();
  }
}
