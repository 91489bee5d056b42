package dev.derphole.transport.portmap;

import static dev.derphole.transport.portmap.Rfc6887Firewall.CLIENT_IP;
import static dev.derphole.transport.portmap.Rfc6887Firewall.INTERNAL_PORT;
import static dev.derphole.transport.portmap.Rfc6887Firewall.PROTOCOL;
import static dev.derphole.transport.portmap.Rfc6887Firewall.SUGGESTED_IP;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * PCP MAP for an IPv6 internal address against {@link Rfc6887Firewall} on [::1], a PCP server
 * written from RFC 6887 (not the project's codec): an IPv6 firewall that opens a pinhole, no
 * translation, so it answers with the client's own address and internal port.
 */
class PcpIpv6PinholeTest {
  @Test
  void aMapTowardAnIpv6GatewayAsksForAPinholeOnOurIpv6AddressWithNoIpv4Preference() throws Exception {
    try (Rfc6887Firewall firewall = new Rfc6887Firewall(new InetSocketAddress("::1", 0));
         DatagramSocket ours = new DatagramSocket(new InetSocketAddress("::1", 0))) {
      int internalPort = ours.getLocalPort();

      Lease lease = new PcpClient(firewall.address(), internalPort, new InFlight())
          .map(Deadline.after(Duration.ofSeconds(10)));
      byte[] req = firewall.next();

      byte[] loopback6 = InetAddress.getByName("::1").getAddress();
      assertThat(req).hasSize(60);
      assertThat(req[0]).as("version").isEqualTo((byte) 2);
      assertThat(req[1]).as("R=0, opcode MAP").isEqualTo((byte) 1);
      assertThat(Arrays.copyOfRange(req, CLIENT_IP, CLIENT_IP + 16)).as("client IP: our IPv6 source").isEqualTo(loopback6);
      assertThat(req[PROTOCOL]).as("UDP").isEqualTo((byte) 17);
      assertThat(ByteBuffer.wrap(req, INTERNAL_PORT, 2).getShort() & 0xffff).isEqualTo(internalPort);
      assertThat(Arrays.copyOfRange(req, SUGGESTED_IP, SUGGESTED_IP + 16))
          .as("no preference for the external address is ::, IPv6's all-zeros (not ::ffff:0.0.0.0)")
          .isEqualTo(new byte[16]);
      assertThat(lease.mapping().external()).isEqualTo(new InetSocketAddress("::1", internalPort));
      assertThat(lease.mapping().lifetime()).isEqualTo(Duration.ofSeconds(120));
    }
  }
}
