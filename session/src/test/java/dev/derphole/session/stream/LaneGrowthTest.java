package dev.derphole.session.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** --parallel auto's probe, on a clock the test turns. */
class LaneGrowthTest {
  static final long SECOND = LaneGrowth.PERIOD_NANOS;
  private final List<Integer> opened = new ArrayList<>();
  private boolean direct = true;
  private long now = 1;

  private boolean step(LaneGrowth g, long acknowledged, int live) {
    return g.step(now, acknowledged, live, () -> direct, opened::add);
  }

  @Test
  void doublesWhileTheRateGrowsByMoreThanATenthAndStopsAtTheFirstThatDoesNot() {
    LaneGrowth g = new LaneGrowth(1, 16);
    assertThat(step(g, 0, 1)).isFalse(); // the measurement starts
    now += SECOND;
    assertThat(step(g, 100, 1)).isTrue(); // 100/s with one lane: try two
    assertThat(opened).containsExactly(2);
    assertThat(step(g, 100, 2)).isFalse();
    now += SECOND;
    assertThat(step(g, 300, 2)).isTrue(); // 200/s: try four
    now += SECOND;
    assertThat(step(g, 300, 4)).isFalse(); // four just joined: measure from here
    now += SECOND;
    assertThat(step(g, 515, 4)).isFalse(); // 215/s is less than 10 % more: stay at four
    now += 5 * SECOND;
    assertThat(step(g, 5000, 4)).isFalse();
    assertThat(opened).containsExactly(2, 4);
    assertThat(g.target()).isEqualTo(4);
  }

  @Test
  void measuresNothingWhileLaneZeroIsOnTheRelayOrTheLanesAskedForHaveNotJoined() {
    LaneGrowth g = new LaneGrowth(1, 4);
    direct = false;
    step(g, 0, 1);
    now += 10 * SECOND;
    assertThat(step(g, 1000, 1)).isFalse();
    direct = true;
    assertThat(step(g, 1000, 1)).isFalse();
    now += SECOND;
    assertThat(step(g, 1100, 1)).isTrue();
    now += 10 * SECOND;
    assertThat(step(g, 9000, 1)).as("lane 1 has not joined").isFalse();
    assertThat(opened).containsExactly(2);
  }

  @Test
  void neverBeyondTheMostAndAFixedCountNeverGrows() {
    LaneGrowth g = new LaneGrowth(1, 3);
    step(g, 0, 1);
    now += SECOND;
    step(g, 100, 1);
    step(g, 100, 2);
    now += SECOND;
    assertThat(step(g, 1000, 2)).isTrue();
    assertThat(g.target()).isEqualTo(3);
    now += SECOND;
    assertThat(step(g, 100_000, 3)).isFalse();
    assertThat(opened).containsExactly(2, 3);
    LaneGrowth fixed = new LaneGrowth(4, 4);
    assertThat(fixed.step(now, 0, 4, () -> true, opened::add)).isFalse();
  }
}
