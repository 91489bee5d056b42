package dev.derphole.transport.portmap;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * When an exchange with the gateway must give up. Its owner may end it early with {@link
 * #cancel()}, which also ends every deadline derived from it with {@link #atMost}: that is how a
 * probe stops the protocols that lost the race, and how {@code close()} stops everything.
 *
 * <p>Waits are cut at the deadline, but a wait already under way for the answer to a request that
 * was sent runs to its planned end (at most one retransmission interval): a gateway that acts on
 * a request must not be left holding a mapping nobody heard about.
 */
final class Deadline {
  private static final Duration LONGEST = Duration.ofDays(365);

  private final long endNanos;
  private final Deadline parent;
  private volatile boolean cancelled;

  private Deadline(long endNanos, Deadline parent) {
    this.endNanos = endNanos;
    this.parent = parent;
  }

  static Deadline after(Duration budget) {
    if (budget.isNegative()) {
      throw new IllegalArgumentException("budget must not be negative, got " + budget);
    }
    return new Deadline(System.nanoTime() + saturatedNanos(budget), null);
  }

  /** A deadline that ends {@code budget} from now at the latest, and whenever this one ends. */
  Deadline atMost(Duration budget) {
    long end = System.nanoTime() + saturatedNanos(budget);
    return new Deadline(end - endNanos < 0 ? end : endNanos, this);
  }

  void cancel() {
    cancelled = true;
  }

  boolean passed() {
    return remainingNanos() == 0;
  }

  long remainingNanos() {
    if (cancelled || (parent != null && parent.passed())) {
      return 0;
    }
    return Math.max(0, endNanos - System.nanoTime());
  }

  /** What is left, rounded up to whole milliseconds, at least 1: a socket timeout of 0 is forever. */
  int remainingMillisForTimeout() {
    long millis = TimeUnit.NANOSECONDS.toMillis(remainingNanos() + 999_999);
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, millis));
  }

  /** Budgets are capped at a year, so that {@code nanoTime() + budget} cannot overflow. */
  private static long saturatedNanos(Duration d) {
    return d.compareTo(LONGEST) > 0 ? LONGEST.toNanos() : d.toNanos();
  }
}
