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
  void localAddressTowardLoopbackIsLoopback() {
    assertThat(RouteTable.localAddressToward(InetAddress.getLoopbackAddress()))
        .contains(InetAddress.getLoopbackAddress());
  }

  private static InetAddress address(String literal) {
    return IpLiteral.parseHost(literal).orElseThrow();
  }
}
