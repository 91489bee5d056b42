package dev.derphole.derp.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class IpLiteralTest {
  @Test
  void literalsParse() throws Exception {
    assertThat(IpLiteral.parse("192.168.1.1")).contains(InetAddress.getByAddress(new byte[] {(byte) 192, (byte) 168, 1, 1}));
    assertThat(IpLiteral.parse("fe80::1")).isPresent();
    assertThat(IpLiteral.parseHost("[::1]")).contains(InetAddress.getByName("::1"));
    assertThat(IpLiteral.parse("[::1]")).as("brackets only where a host is expected").isEmpty();
  }

  @Test
  void namesAndNonsenseAreNeverLookedUp() {
    for (String text : new String[] {"gateway.invalid", "localhost", "none", "1.2.3.256", "1.2.3", "01.2.3.4",
        "1.2.3.4.5", "", "::g", "derp1f.tailscale.com"}) {
      assertThat(IpLiteral.parse(text)).as(text).isEmpty();
      assertThat(IpLiteral.parseHost(text)).as(text).isEmpty();
    }
    assertThat(IpLiteral.parse(null)).isEmpty();
    assertThat(IpLiteral.parseHost(null)).isEmpty();
  }

  @Test
  void anIpv4MappedIpv6LiteralComesBackAsIpv4() {
    assertThat(IpLiteral.parse("::ffff:1.2.3.4")).get().isInstanceOf(Inet4Address.class);
  }

  @Test
  void formattingIsCanonical() throws Exception {
    assertThat(IpLiteral.format(InetAddress.getByName("2001:db8:0:0:0:0:0:1"))).isEqualTo("2001:db8::1");
    assertThat(IpLiteral.format(InetAddress.getByName("10.1.0.2"))).isEqualTo("10.1.0.2");
  }

  @Test
  void socketAddressesReadWithoutSlashAndWithBracketsForIpv6() throws Exception {
    assertThat(IpLiteral.format(new java.net.InetSocketAddress(InetAddress.getByName("192.0.2.2"), 49533)))
        .isEqualTo("192.0.2.2:49533");
    assertThat(IpLiteral.format(new java.net.InetSocketAddress(InetAddress.getByName("2001:db8:0:0:0:0:0:1"), 443)))
        .isEqualTo("[2001:db8::1]:443");
    assertThat(IpLiteral.format(java.net.InetSocketAddress.createUnresolved("relay.example", 8443)))
        .isEqualTo("relay.example:8443");
  }
}
