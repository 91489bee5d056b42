package dev.derphole.transport.portmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PCP MAP for an IPv6 internal address against a PCP server on [::1] written here from RFC 6887
 * (not the project's codec): an IPv6 firewall that opens a pinhole, no translation, so it answers
 * with the client's own address and internal port (§11.3, a device that does not rewrite).
 */
class PcpIpv6PinholeTest {
  /** RFC 6887 §7.1/§11.1 offsets in a MAP request. */
  static final int CLIENT_IP = 8;
  static final int NONCE = 24;
  static final int PROTOCOL = 36;
  static final int INTERNAL_PORT = 40;
  static final int SUGGESTED_IP = 44;

  @Test
  void aMapTowardAnIpv6GatewayAsksForAPinholeOnOurIpv6AddressWithNoIpv4Preference() throws Exception {
    try (DatagramSocket firewall = new DatagramSocket(new InetSocketAddress("::1", 0));
         DatagramSocket ours = new DatagramSocket(new InetSocketAddress("::1", 0))) {
      int internalPort = ours.getLocalPort();
      CompletableFuture<byte[]> request = new CompletableFuture<>();
      Thread server = new Thread(() -> {
        try {
          byte[] buf = new byte[1100];
          DatagramPacket in = new DatagramPacket(buf, buf.length);
          firewall.receive(in);
          byte[] req = Arrays.copyOf(in.getData(), in.getLength());
          request.complete(req);
          ByteBuffer answer = ByteBuffer.allocate(60);
          answer.put((byte) 2).put((byte) 0x81).put((byte) 0).put((byte) 0); // version, R|MAP, reserved, SUCCESS
          answer.putInt(120).putInt(1000).put(new byte[12]);                 // lifetime, epoch, reserved
          answer.put(req, NONCE, 12).put(req[PROTOCOL]).put(new byte[3]);     // nonce, protocol echoed
          answer.put(req, INTERNAL_PORT, 2).put(req, INTERNAL_PORT, 2);       // internal port, the same outside
          answer.put(in.getAddress().getAddress());                           // the client's own address
          firewall.send(new DatagramPacket(answer.array(), 60, in.getSocketAddress()));
        } catch (Exception e) {
          request.completeExceptionally(e);
        }
      });
      server.setDaemon(true);
      server.start();

      Lease lease = new PcpClient((InetSocketAddress) firewall.getLocalSocketAddress(), internalPort, new InFlight())
          .map(Deadline.after(Duration.ofSeconds(10)));
      byte[] req = request.get(10, TimeUnit.SECONDS);

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
