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

  private static InetAddress address(String literal) {
    return IpLiteral.parseHost(literal).orElseThrow();
  }
}
