package dev.derphole.session.stream;

import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * {@code --parallel auto}: a short rate probe that decides how many lanes a transfer uses. It
 * starts with one lane; once lane 0 is direct and every lane asked for has joined, it measures the
 * acknowledged rate in periods of {@link #PERIOD_NANOS} until the rate settles (at least
 * {@link #SETTLE_PERIODS} periods, and the last did not rise by more than {@link #GROWTH} over the
 * one before, or {@link #MOST_PERIODS} periods): a congestion window still opening would otherwise
 * make the next count look better than it is. Then it doubles the lanes and measures again. A
 * doubling that raised the settled rate by more than {@link #GROWTH} is kept and the probe goes on;
 * one that did not is undone (the lanes it added take no new chunks) and the probe ends there, as it
 * does at the most allowed (min(cores, 16) and what the peer allows). With a fixed count it only
 * opens those lanes.
 */
class LaneGrowth {
  static final long PERIOD_NANOS = 1_000_000_000L;
  /** A doubling must raise the rate by more than this fraction to be kept. */
  static final double GROWTH = 0.10;
  /** Periods measured at least at each count. */
  static final int SETTLE_PERIODS = 2;
  /** Periods measured at most at each count, settled or not. */
  static final int MOST_PERIODS = 5;

  private int target;
  private int most;
  private boolean done;
  private long since;
  private long bytesSince;
  /** Periods measured at the current count, and the last one's rate. */
  private int periods;
  private double periodRate;
  /** The settled rate at the count before the last doubling (0: none yet). */
  private double keptRate;
  private int keptTarget;

  LaneGrowth(int start, int most) {
    this.target = Math.max(1, Math.min(start, most));
    this.most = most;
    this.done = target >= most;
  }

  int target() {
    return target;
  }

  /**
   * Called often by the sender with the acknowledged bytes and the lanes carrying data now; may
   * change the count: {@code change} gets the new one, more (open lanes up to it) or fewer (the
   * lanes from it on take no new chunks). True when it did.
   */
  boolean step(long now, long acknowledged, int live, BooleanSupplier direct, IntConsumer change) {
    if (done) {
      return false;
    }
    if (since == 0 || !direct.getAsBoolean() || live < target) {
      since = now; // measure only once the lanes asked for carry data
      bytesSince = acknowledged;
      return false;
    }
    if (now - since < PERIOD_NANOS) {
      return false;
    }
    double rate = (acknowledged - bytesSince) * 1e9 / (now - since);
    since = now;
    bytesSince = acknowledged;
    periods++;
    boolean settled = periods >= MOST_PERIODS || periods >= SETTLE_PERIODS && rate <= periodRate * (1 + GROWTH);
    double settledRate = Math.max(rate, periodRate);
    periodRate = rate;
    if (!settled) {
      return false;
    }
    periods = 0;
    periodRate = 0;
    if (keptRate > 0 && settledRate <= keptRate * (1 + GROWTH)) {
      target = keptTarget; // the last doubling did not pay: go back and stay
      most = target;
      done = true;
      change.accept(target);
      return true;
    }
    if (target >= most) {
      done = true;
      return false;
    }
    keptRate = settledRate;
    keptTarget = target;
    target = Math.min(most, target * 2);
    change.accept(target);
    return true;
  }
}
