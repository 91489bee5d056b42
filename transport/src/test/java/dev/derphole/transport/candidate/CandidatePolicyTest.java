package dev.derphole.transport.candidate;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CandidatePolicyTest {

  @Test
  void keepsGoodCandidatesInOrder() {
    List<String> good = List.of("203.0.113.7:41641", "[2001:db8::7]:41641", "10.0.0.2:1",
        "192.168.1.20:65535", "[fd00::2]:5000");
    assertThat(CandidatePolicy.filter(good, false)).isEqualTo(good);
  }

  @ParameterizedTest
  @ValueSource(strings = {
    // not canonical
    "01.2.3.4:80", "1.2.3.4:080", "1.2.3.4:+80", "[2001:DB8::1]:80", "[2001:db8:0::1]:80",
    "2001:db8::1:80", "[1.2.3.4]:80", "[::ffff:1.2.3.4]:80", "1.2.3.4", "[2001:db8::1]",
    "[2001:db8::1]80", "1.2.3.4:", " 1.2.3.4:80", "1.2.3.4:80 ", "[fe80::1%eth0]:80",
    "example.com:80", "localhost:80", "1.2.3.4:80:90",
    // bad port
    "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:999999",
    // unspecified, multicast, broadcast
    "0.0.0.0:5", "[::]:5", "224.0.0.1:5", "239.255.255.250:1900", "[ff02::1]:5",
    "255.255.255.255:5",
    // IPv6 link-local: no scope travels with it
    "[fe80::1]:5000",
    // loopback
    "127.0.0.1:5", "127.1.2.3:5", "[::1]:5",
  })
  void dropsBadCandidates(String candidate) {
    assertThat(CandidatePolicy.filter(List.of(candidate, "198.51.100.1:9"), false))
        .containsExactly("198.51.100.1:9");
  }

  @Test
  void loopbackOnlyWhenAllowed() {
    List<String> raw = List.of("127.0.0.1:5", "[::1]:6", "0.0.0.0:7");
    assertThat(CandidatePolicy.filter(raw, false)).isEmpty();
    assertThat(CandidatePolicy.filter(raw, true)).containsExactly("127.0.0.1:5", "[::1]:6");
  }

  @Test
  void dropsDuplicatesAndNullsAndKeepsAtMost32() {
    List<String> raw = new ArrayList<>();
    raw.add(null);
    raw.add("198.51.100.1:9");
    raw.add("198.51.100.1:9");
    IntStream.rangeClosed(1, 40).forEach(i -> raw.add("198.51.100.2:" + i));
    List<String> kept = CandidatePolicy.filter(raw, false);

    assertThat(kept).hasSize(CandidatePolicy.MAX_CANDIDATES).doesNotHaveDuplicates();
    assertThat(kept.get(0)).isEqualTo("198.51.100.1:9");
    assertThat(kept.get(31)).isEqualTo("198.51.100.2:31");
  }

  @Test
  void invalidEntriesDoNotCountTowardsTheLimit() {
    List<String> raw = new ArrayList<>(Collections.nCopies(100, "nonsense"));
    raw.add("198.51.100.1:9");
    assertThat(CandidatePolicy.filter(raw, false)).containsExactly("198.51.100.1:9");
  }

  @Test
  void formatAndParseAreInverse() throws Exception {
    for (String text : Arrays.asList("203.0.113.7:41641", "[2001:db8::7]:1", "[::1]:65535")) {
      InetSocketAddress address = Candidate.parse(text).orElseThrow();
      assertThat(Candidate.format(address)).isEqualTo(text);
    }
    InetSocketAddress v6 =
        new InetSocketAddress(InetAddress.getByName("2001:db8:0:0:0:0:0:7"), 443);
    assertThat(Candidate.format(v6)).isEqualTo("[2001:db8::7]:443");
  }
}
