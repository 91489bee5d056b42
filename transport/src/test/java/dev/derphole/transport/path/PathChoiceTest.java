package dev.derphole.transport.path;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class PathChoiceTest {
  static final InetSocketAddress V4 = new InetSocketAddress("198.51.100.20", 4000);
  static final InetSocketAddress V4_OTHER = new InetSocketAddress("10.2.0.2", 4000);
  static final InetSocketAddress V6 = new InetSocketAddress("2001:db8:b::2", 4000);
  static final long MS = 1_000_000;

  @Test
  void byLatencyWhateverTheFamily() {
    assertThat(PathChoice.better(V4, 6 * MS, V6, 10 * MS)).as("IPv4 30 % faster than IPv6").isTrue();
    assertThat(PathChoice.better(V4, 8 * MS, V6, 10 * MS)).as("IPv4 only 20 % faster").isFalse();
    assertThat(PathChoice.better(V6, 6 * MS, V4, 10 * MS)).isTrue();
    assertThat(PathChoice.better(V4_OTHER, 6 * MS, V4, 10 * MS)).isTrue();
    assertThat(PathChoice.better(V4_OTHER, 8 * MS, V4, 10 * MS)).isFalse();
  }

  @Test
  void ipv6WinsOverIpv4WhenAboutAsFast() {
    assertThat(PathChoice.better(V6, 10 * MS, V4, 10 * MS)).as("a tie").isTrue();
    assertThat(PathChoice.better(V6, 14 * MS, V4, 10 * MS)).as("40 % slower, within 1/0.7").isTrue();
    assertThat(PathChoice.better(V6, 15 * MS, V4, 10 * MS)).as("50 % slower").isFalse();
    assertThat(PathChoice.better(V6, 0, V4, 0)).as("both under the clock's resolution").isTrue();
  }

  /** Whatever two round trips, at most one of two addresses would take over from the other. */
  @Property
  void twoLivePathsNeverFlap(@ForAll @LongRange(min = 0, max = 10_000_000_000L) long a,
                             @ForAll @LongRange(min = 0, max = 10_000_000_000L) long b) {
    for (InetSocketAddress[] pair : new InetSocketAddress[][] {{V4, V6}, {V6, V4}, {V4, V4_OTHER}}) {
      assertThat(PathChoice.better(pair[0], a, pair[1], b) && PathChoice.better(pair[1], b, pair[0], a)).isFalse();
    }
  }
}
