package dev.derphole.bench;

import java.util.Locale;

/**
 * The one machine-readable line a benchmark run prints on stdout:
 * {@code RESULT key=value key=value ...}, values without spaces, numbers with a dot. Scripts pick
 * fields by name, so adding a field never breaks them.
 */
final class ResultLine {
  private final StringBuilder line = new StringBuilder("RESULT");

  ResultLine put(String key, String value) {
    if (value.isEmpty() || value.chars().anyMatch(c -> c == ' ' || c == '=')) {
      throw new IllegalArgumentException("result value for " + key + " must be one word: \"" + value + "\"");
    }
    line.append(' ').append(key).append('=').append(value);
    return this;
  }

  ResultLine put(String key, long value) {
    return put(key, Long.toString(value));
  }

  ResultLine put(String key, double value, int decimals) {
    return put(key, String.format(Locale.ROOT, "%." + decimals + "f", value));
  }

  /** Gbit/s of payload: {@code bytes * 8 / 1e9 / seconds}. */
  static double gbitPerSecond(long bytes, double seconds) {
    return seconds > 0 ? bytes * 8 / 1e9 / seconds : 0;
  }

  @Override
  public String toString() {
    return line.toString();
  }
}
