package dev.derphole.session.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** --parallel auto's probe, on a clock the test turns. */
class LaneGrowthTest {
  static final long SECOND = LaneGrowth.PERIOD_NANOS;
  /** Every count the probe asked for, in order (more: open; fewer: retire). */
  private final List<Integer> changes = new ArrayList<>();
  private boolean direct = true;
  private long now = 1;
  private long acknowledged;

  private boolean step(LaneGrowth g, int live) {
    return g.step(now, acknowledged, live, () -> direct, changes::add);
  }

  /** One period at {@code rate} bytes a second with {@code live} lanes; whether the count changed. */
  private boolean period(LaneGrowth g, long rate, int live) {
    now += SECOND;
    acknowledged += rate;
    return step(g, live);
  }

  @Test
  void keepsEachDoublingThatRaisesTheSettledRateByMoreThanATenth() {
    LaneGrowth g = new LaneGrowth(1, 16);
    step(g, 1); // the measurement starts
    assertThat(period(g, 100, 1)).isFalse();
    assertThat(period(g, 100, 1)).as("settled after two periods: try two").isTrue();
    assertThat(changes).containsExactly(2);
    step(g, 2);
    assertThat(period(g, 200, 2)).isFalse();
    assertThat(period(g, 200, 2)).as("twice the rate: keep two, try four").isTrue();
    assertThat(changes).containsExactly(2, 4);
    assertThat(g.target()).isEqualTo(4);
  }

  @Test
  void aDoublingThatDoesNotPayIsUndoneAndTheProbeEnds() {
    LaneGrowth g = new LaneGrowth(1, 16);
    step(g, 1);
    period(g, 100, 1);
    assertThat(period(g, 100, 1)).isTrue();
    step(g, 2);
    period(g, 84, 2);
    assertThat(period(g, 84, 2)).as("two lanes at 0.84x one: back to one").isTrue();
    assertThat(changes).containsExactly(2, 1);
    assertThat(g.target()).isEqualTo(1);
    for (int i = 0; i < 10; i++) {
      assertThat(period(g, 1000, 2)).as("the probe is over").isFalse();
    }
    assertThat(changes).containsExactly(2, 1);
  }

  @Test
  void oneLaneIsMeasuredUntilItsRateStopsRisingBeforeADoublingIsJudged() {
    LaneGrowth g = new LaneGrowth(1, 16);
    step(g, 1);
    assertThat(period(g, 40, 1)).isFalse(); // the window is still opening
    assertThat(period(g, 70, 1)).as("still rising by more than a tenth").isFalse();
    assertThat(period(g, 100, 1)).isFalse();
    assertThat(period(g, 100, 1)).as("settled at 100/s").isTrue();
    step(g, 2);
    period(g, 105, 2);
    assertThat(period(g, 105, 2)).as("105/s is not more than a tenth over the settled 100/s").isTrue();
    assertThat(changes).containsExactly(2, 1);
  }

  @Test
  void aRateThatNeverSettlesIsJudgedAfterTheMostPeriods() {
    LaneGrowth g = new LaneGrowth(1, 2);
    step(g, 1);
    long rate = 100;
    for (int i = 1; i < LaneGrowth.MOST_PERIODS; i++) {
      assertThat(period(g, rate, 1)).isFalse();
      rate *= 2;
    }
    assertThat(period(g, rate, 1)).isTrue();
    assertThat(changes).containsExactly(2);
  }

  @Test
  void measuresNothingWhileLaneZeroIsOnTheRelayOrTheLanesAskedForHaveNotJoined() {
    LaneGrowth g = new LaneGrowth(1, 4);
    direct = false;
    step(g, 1);
    for (int i = 0; i < 10; i++) {
      assertThat(period(g, 1000, 1)).isFalse();
    }
    direct = true;
    step(g, 1);
    period(g, 100, 1);
    assertThat(period(g, 100, 1)).isTrue();
    for (int i = 0; i < 10; i++) {
      assertThat(period(g, i == 0 ? 1 : 9000, 1)).as("lane 1 has not joined").isFalse();
    }
    assertThat(changes).containsExactly(2);
  }

  @Test
  void neverBeyondTheMostAndTheLastDoublingIsStillJudged() {
    LaneGrowth g = new LaneGrowth(1, 3);
    step(g, 1);
    period(g, 100, 1);
    assertThat(period(g, 100, 1)).isTrue();
    step(g, 2);
    period(g, 300, 2);
    assertThat(period(g, 300, 2)).isTrue();
    assertThat(g.target()).isEqualTo(3);
    step(g, 3);
    period(g, 310, 3);
    assertThat(period(g, 310, 3)).as("three lanes did not pay: back to two").isTrue();
    assertThat(changes).containsExactly(2, 3, 2);
    for (int i = 0; i < 10; i++) {
      assertThat(period(g, 100_000, 3)).isFalse();
    }
    assertThat(changes).containsExactly(2, 3, 2);
    LaneGrowth fixed = new LaneGrowth(4, 4);
    assertThat(fixed.step(now, 0, 4, () -> true, changes::add)).isFalse();
    now += 10 * SECOND;
    assertThat(fixed.step(now, 1 << 30, 4, () -> true, changes::add)).isFalse();
  }

  @Test
  void staysAtTheMostWhenTheLastDoublingPaid() {
    LaneGrowth g = new LaneGrowth(1, 2);
    step(g, 1);
    period(g, 100, 1);
    period(g, 100, 1);
    step(g, 2);
    period(g, 197, 2);
    assertThat(period(g, 197, 2)).isFalse();
    for (int i = 0; i < 10; i++) {
      assertThat(period(g, 1, 2)).isFalse();
    }
    assertThat(changes).containsExactly(2);
    assertThat(g.target()).isEqualTo(2);
  }
}
