package dev.derphole.transport.portmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class HostPortTest {
  @Test
  void hostPortPrintsNoHostNameAndBracketsIpv6() throws Exception {
    assertThat(HostPort.of(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 5351)))
        .isEqualTo("127.0.0.1:5351");
    assertThat(HostPort.of(new java.net.InetSocketAddress(InetAddress.getByName("::1"), 1900)))
        .isEqualTo("[0:0:0:0:0:0:0:1]:1900");
  }
}
