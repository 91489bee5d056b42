package dev.derphole.transport.portmap;

import static dev.derphole.transport.portmap.MapperFixture.millisSince;
import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.net.IpLiteral;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The IPv6 pinhole on real sockets: the PCP server written from RFC 6887 on [::1] acts as the
 * router (its address injected instead of read from {@code /proc/net/ipv6_route}), our "global"
 * address is [::1] too.
 */
@Timeout(30)
class PinholeMapperTest {
  private static final InetAddress LOOPBACK6 = IpLiteral.parseHost("::1").orElseThrow();

  private final MapperFixture fixture = new MapperFixture();
  /** Closed after each test, before the fixture checks that no thread is left: a failed test leaks none. */
  private final List<PinholeMapper> opened = new java.util.ArrayList<>();

  PinholeMapperTest() throws Exception {}

  @AfterEach
  void noLeaks() {
    opened.forEach(PinholeMapper::close);
    fixture.close();
  }

  @Test
  void aPinholeIsAskedByPcpFromOurAddressBecomesACandidateIsRenewedAndDeletedOnClose() throws Exception {
    try (Rfc6887Firewall router = new Rfc6887Firewall(new InetSocketAddress(LOOPBACK6, 0));
         DatagramSocket ours = new DatagramSocket(new InetSocketAddress(LOOPBACK6, 0))) {
      router.maxLifetimeSeconds = 2;
      int port = ours.getLocalPort();
      LinkedBlockingQueue<InetSocketAddress> candidates = new LinkedBlockingQueue<>();
      PinholeMapper pinholes = open(new PinholeMapper(() -> Optional.of(LOOPBACK6), LOOPBACK6, port, fixture.executor,
          fixture::record, new GatewayPorts(router.address().getPort(), fixture.silentPort(), false)));

      long start = System.nanoTime();
      pinholes.start(Duration.ofSeconds(3), candidates::add);

      byte[] first = router.next();
      assertThat(Arrays.copyOfRange(first, Rfc6887Firewall.CLIENT_IP, Rfc6887Firewall.CLIENT_IP + 16))
          .as("client IP: the address the pinhole is for").isEqualTo(LOOPBACK6.getAddress());
      assertThat(first[Rfc6887Firewall.PROTOCOL]).as("UDP").isEqualTo((byte) 17);
      assertThat(ByteBuffer.wrap(first, Rfc6887Firewall.INTERNAL_PORT, 2).getShort() & 0xffff).isEqualTo(port);
      assertThat(Arrays.copyOfRange(first, Rfc6887Firewall.SUGGESTED_IP, Rfc6887Firewall.SUGGESTED_IP + 16))
          .as("no external preference: ::").isEqualTo(new byte[16]);
      assertThat(Rfc6887Firewall.lifetime(first)).isEqualTo(7200);

      assertThat(candidates.poll(10, TimeUnit.SECONDS)).as("the pinhole is a candidate")
          .isEqualTo(new InetSocketAddress(LOOPBACK6, port));
      assertThat(pinholes.current().map(Mapping::lifetime)).contains(Duration.ofSeconds(2));
      assertThat(fixture.log).anyMatch(l -> l.contains("services=pcp (IPv6 pinhole for ::1)"));

      byte[] renewal = router.next();
      assertThat(millisSince(start)).as("renewed at half the 2 s lifetime").isBetween(900L, 2500L);
      assertThat(Rfc6887Firewall.nonce(renewal)).isEqualTo(Rfc6887Firewall.nonce(first));
      assertThat(Rfc6887Firewall.lifetime(renewal)).isEqualTo(7200);
      assertThat(candidates).as("a renewal that does not move it is no new candidate").isEmpty();

      pinholes.close();

      byte[] delete = router.next();
      while (Rfc6887Firewall.lifetime(delete) != 0) {
        delete = router.next(); // a second renewal may have come before the close
      }
      assertThat(Rfc6887Firewall.lifetime(delete)).as("deleted: lifetime 0").isZero();
      assertThat(Rfc6887Firewall.nonce(delete)).isEqualTo(Rfc6887Firewall.nonce(first));
      assertThat(pinholes.current()).isEmpty();
    }
  }

  @Test
  void theRequestGoesFromTheAddressThePinholeIsForNotTheKernelsChoice() throws Exception {
    // Toward a link-local router the kernel would send from our link-local address; RFC 6887 §8.1
    // wants the client IP to be the source. Shown on IPv4 loopback, where the kernel would pick
    // 127.0.0.1 toward 127.0.0.1 and the pinhole is for 127.0.0.2.
    InetAddress second = InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
    try (Rfc6887Firewall router = new Rfc6887Firewall(new InetSocketAddress(MapperFixture.LOOPBACK, 0))) {
      LinkedBlockingQueue<InetSocketAddress> candidates = new LinkedBlockingQueue<>();
      PinholeMapper pinholes = open(new PinholeMapper(() -> Optional.of(MapperFixture.LOOPBACK), second, 41641,
          fixture.executor, fixture::record, new GatewayPorts(router.address().getPort(), fixture.silentPort(), false)));
      pinholes.start(Duration.ofSeconds(3), candidates::add);

      byte[] first = router.next();
      byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 2};
      assertThat(Arrays.copyOfRange(first, Rfc6887Firewall.CLIENT_IP, Rfc6887Firewall.CLIENT_IP + 16)).isEqualTo(mapped);
      assertThat(candidates.poll(10, TimeUnit.SECONDS)).isEqualTo(new InetSocketAddress(second, 41641));
      pinholes.close();
    }
  }

  @Test
  void noIpv6GatewayAsksNothingAndGrantsNothing() throws Exception {
    try (Rfc6887Firewall router = new Rfc6887Firewall(new InetSocketAddress(LOOPBACK6, 0))) {
      PinholeMapper pinholes = open(new PinholeMapper(Optional::empty, LOOPBACK6, 41641, fixture.executor,
          fixture::record, new GatewayPorts(router.address().getPort(), fixture.silentPort(), false)));
      pinholes.start(Duration.ofSeconds(1), a -> {
        throw new AssertionError("no pinhole without a gateway: " + a);
      });
      assertThat(fixture.logged("portmap=none: no IPv6 default gateway")).isTrue();
      pinholes.close();
    }
  }

  @Test
  void aSilentRouterCostsTheBudgetAndNothingElse() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(LOOPBACK6, 0))) {
      PinholeMapper pinholes = open(new PinholeMapper(() -> Optional.of(LOOPBACK6), LOOPBACK6, 41641, fixture.executor,
          fixture::record, new GatewayPorts(silent.getLocalPort(), fixture.silentPort(), false)));
      pinholes.start(Duration.ofMillis(500), a -> {
        throw new AssertionError("no pinhole from a silent router: " + a);
      });
      assertThat(fixture.logged("portmap=none: no mapping within the budget")).isTrue();
      assertThat(pinholes.current()).isEmpty();
      pinholes.close();
    }
  }

  @Test
  void theAddressAskedForIsTheFirstGlobalIpv6Candidate() {
    List<InetSocketAddress> ours = List.of(
        socket("192.168.1.20"), socket("fe80::1"), socket("fd12:3456::7"), socket("::1"),
        socket("2001:db8::aaaa"), socket("2001:db8::5"));
    assertThat(PinholeMapper.globalIpv6(ours)).contains(IpLiteral.parseHost("2001:db8::aaaa").orElseThrow());
    assertThat(PinholeMapper.globalIpv6(ours.subList(0, 4))).as("no global IPv6: no pinhole").isEmpty();
    assertThat(PinholeMapper.globalIpv6(List.of(socket("3fff::1")))).isPresent();
    assertThat(PinholeMapper.globalIpv6(List.of(socket("ff02::1")))).isEmpty();
  }

  private PinholeMapper open(PinholeMapper pinholes) {
    opened.add(pinholes);
    return pinholes;
  }

  private static InetSocketAddress socket(String literal) {
    return new InetSocketAddress(IpLiteral.parseHost(literal).orElseThrow(), 41641);
  }
}
