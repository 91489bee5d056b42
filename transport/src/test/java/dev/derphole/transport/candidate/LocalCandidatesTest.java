package dev.derphole.transport.candidate;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalCandidatesTest {
  private static InetAddress ip(String literal) {
    return dev.derphole.derp.net.IpLiteral.parse(literal).orElseThrow();
  }

  private static String key(String literal) {
    return java.util.HexFormat.of().formatHex(ip(literal).getAddress());
  }

  @Test
  void ipv4FirstThenTemporaryIpv6ThenStableIpv6() {
    List<InetAddress> found = List.of(ip("2001:db8::10"), ip("192.168.1.20"), ip("2001:db8::beef"),
        ip("fd12:3456::1"), ip("203.0.113.7"));
    Map<String, Integer> flags = Map.of(key("2001:db8::beef"), LocalCandidates.IFA_F_TEMPORARY,
        key("2001:db8::10"), 0x80 /* permanent */);
    assertThat(LocalCandidates.order(found, flags, false)).containsExactly(ip("192.168.1.20"), ip("203.0.113.7"),
        ip("2001:db8::beef"), ip("2001:db8::10"), ip("fd12:3456::1"));
  }

  @Test
  void addressesTheOsNoLongerOrNotYetUsesAreLeftOut() {
    List<InetAddress> found = List.of(ip("2001:db8::1"), ip("2001:db8::2"), ip("2001:db8::3"), ip("2001:db8::4"));
    Map<String, Integer> flags = Map.of(
        key("2001:db8::1"), LocalCandidates.IFA_F_TEMPORARY | LocalCandidates.IFA_F_DEPRECATED,
        key("2001:db8::2"), LocalCandidates.IFA_F_TENTATIVE,
        key("2001:db8::3"), LocalCandidates.IFA_F_DADFAILED);
    assertThat(LocalCandidates.order(found, flags, false)).containsExactly(ip("2001:db8::4"));
  }

  @Test
  void linkLocalLoopbackSiteLocalMulticastAndTailscaleAreNeverOffered() {
    List<InetAddress> found = List.of(ip("fe80::1"), ip("::1"), ip("fec0::1"), ip("ff02::1"),
        ip("fd7a:115c:a1e0::5"), ip("100.100.1.1"), ip("169.254.1.1"), ip("::"), ip("::102:304"),
        ip("127.0.0.1"));
    assertThat(LocalCandidates.order(found, Map.of(), false)).isEmpty();
    assertThat(LocalCandidates.order(found, Map.of(), true)).as("tests on one machine use IPv4's loopback")
        .containsExactly(ip("127.0.0.1"));
  }

  @Test
  void flagsAreReadFromProcNetIfInet6AndAMissingFileMeansNone(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("if_inet6");
    Files.writeString(file, """
        fe8000000000000000fc00fffe000001 04 40 20 80     eth0
        20010db8000000000000000000000abc 04 40 00 01     eth0
        fd000000000000000000000000000002 04 40 00 82     eth0
        garbage
        20010db8000000000000000000000def 04 40 00 zz     eth0
        """);
    Map<String, Integer> flags = LocalCandidates.ipv6Flags(file);
    assertThat(flags).containsEntry(key("2001:db8::abc"), 0x01).containsEntry(key("fd00::2"), 0x82)
        .doesNotContainKey(key("2001:db8::def")).hasSize(3);
    assertThat(LocalCandidates.ipv6Flags(dir.resolve("absent"))).isEmpty();
  }
}
