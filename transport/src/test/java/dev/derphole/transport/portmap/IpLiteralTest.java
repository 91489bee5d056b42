package dev.derphole.transport.portmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class IpLiteralTest {
  @Test
  void literalsParse() throws Exception {
    assertThat(IpLiteral.parse("192.168.1.1")).contains(InetAddress.getByAddress(new byte[] {(byte) 192, (byte) 168, 1, 1}));
    assertThat(IpLiteral.parse("[::1]")).contains(InetAddress.getByName("::1"));
    assertThat(IpLiteral.parse("fe80::1")).isPresent();
  }

  @Test
  void namesAndNonsenseAreNotLookedUp() {
    assertThat(IpLiteral.parse("gateway.invalid")).isEmpty();
    assertThat(IpLiteral.parse("localhost")).isEmpty();
    assertThat(IpLiteral.parse("1.2.3.256")).isEmpty();
    assertThat(IpLiteral.parse("1.2.3")).isEmpty();
    assertThat(IpLiteral.parse("")).isEmpty();
    assertThat(IpLiteral.parse(null)).isEmpty();
  }

  @Test
  void hostPortPrintsNoHostNameAndBracketsIpv6() throws Exception {
    assertThat(HostPort.of(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 5351)))
        .isEqualTo("127.0.0.1:5351");
    assertThat(HostPort.of(new java.net.InetSocketAddress(InetAddress.getByName("::1"), 1900)))
        .isEqualTo("[0:0:0:0:0:0:0:1]:1900");
  }
}
