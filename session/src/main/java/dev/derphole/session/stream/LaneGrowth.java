package dev.derphole.session.stream;

import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * {@code --parallel auto}: a short rate probe that decides how many lanes a transfer uses. It
 * starts with one lane; once lane 0 is direct and every lane asked for has joined, it measures the
 * acknowledged rate for {@link #PERIOD_NANOS}, then doubles the lanes, and keeps doubling while each
 * doubling raised the rate by more than {@link #GROWTH}; it stops at the first that did not, or at
 * the most allowed (min(cores, 16) and what the peer allows). Lanes are never closed again: a lane
 * that does not help costs little. With a fixed count it only opens those lanes.
 */
final class LaneGrowth {
  static final long PERIOD_NANOS = 1_000_000_000L;
  /** A doubling must raise the rate by more than this fraction to go on. */
  static final double GROWTH = 0.10;

  private int target;
  private int most;
  private long since;
  private long bytesSince;
  private double lastRate;

  LaneGrowth(int start, int most) {
    this.target = Math.max(1, Math.min(start, most));
    this.most = most;
  }

  int target() {
    return target;
  }

  /**
   * Called often by the sender with the acknowledged bytes and the lanes carrying data now; may
   * {@code open} more (the new total). True when it did.
   */
  boolean step(long now, long acknowledged, int live, BooleanSupplier direct, IntConsumer open) {
    if (target >= most) {
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
    if (lastRate > 0 && rate <= lastRate * (1 + GROWTH)) {
      most = target; // the last doubling did not pay: stay
      return false;
    }
    lastRate = rate;
    target = Math.min(most, target * 2);
    open.accept(target);
    return true;
  }
}
