package dev.derphole.session.token;

import java.time.Duration;

/**
 * Durations for people: {@code "12 minutes"}, {@code "1 hour"}, {@code "2 days"}.
 *
 * <p>Rule: the largest unit that fits (seconds, minutes, hours, days) and the count in that unit
 * <em>rounded down</em>, so the text never overstates: 90 s is "1 minute", 47 h is "1 day". Under a
 * second is "less than a second". Negative durations are formatted by their magnitude; the caller
 * says "ago" or "from now".
 */
public final class HumanDuration {
  private HumanDuration() {}

  /** The duration in words, rounded down to the largest whole unit. */
  public static String of(Duration d) {
    long seconds = d.abs().getSeconds();
    if (seconds < 1) {
      return "less than a second";
    }
    if (seconds < 60) {
      return count(seconds, "second");
    }
    if (seconds < 3600) {
      return count(seconds / 60, "minute");
    }
    if (seconds < 86400) {
      return count(seconds / 3600, "hour");
    }
    return count(seconds / 86400, "day");
  }

  private static String count(long n, String unit) {
    return n + " " + unit + (n == 1 ? "" : "s");
  }
}
