package dev.derphole.transport.disco;

import java.time.Duration;
import java.util.TreeSet;

/**
 * Refuses a disco ping that was seen before or is not fresh, so that a ping captured on the path
 * and sent again (from anywhere) gets no pong, claims no candidate slot and is no sign of life.
 * A ping's counter is its sender's clock in microseconds, strictly increasing (see {@link
 * DiscoPacket}): the counter must be within {@link #MAX_SKEW} of our clock, not older than
 * {@link #REORDER} behind the newest accepted one, and not accepted before. Memory is bounded:
 * past {@link #MAX_REMEMBERED} counters, the oldest is forgotten and nothing older is accepted.
 * Not thread-safe (the socket's event loop owns it).
 */
public final class ReplayWindow {
  /** How far apart the two peers' clocks may be; claims assume the same (a claim older than 2 minutes is stale). */
  public static final Duration MAX_SKEW = Duration.ofMinutes(2);
  /** How long after a newer ping an older one may still arrive (the network reorders). */
  public static final Duration REORDER = Duration.ofSeconds(5);
  static final int MAX_REMEMBERED = 4096;
  private static final long SKEW_MICROS = MAX_SKEW.toNanos() / 1000;
  private static final long REORDER_MICROS = REORDER.toNanos() / 1000;

  private final TreeSet<Long> seen = new TreeSet<>();
  /** Counters at or below this are refused. */
  private long floor = Long.MIN_VALUE;

  /** Whether a ping with this counter is fresh and new; if so, it is remembered. */
  public boolean accept(long counter, long nowMicros) {
    if (counter < nowMicros - SKEW_MICROS || counter > nowMicros + SKEW_MICROS) {
      return false;
    }
    if (counter <= floor || !seen.add(counter)) {
      return false;
    }
    floor = Math.max(floor, seen.last() - REORDER_MICROS);
    seen.headSet(floor, true).clear();
    while (seen.size() > MAX_REMEMBERED) {
      floor = seen.pollFirst();
    }
    return true;
  }

  /** Counters remembered now (for tests). */
  int remembered() {
    return seen.size();
  }
}
