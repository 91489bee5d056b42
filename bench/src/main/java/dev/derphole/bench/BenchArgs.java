package dev.derphole.bench;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} flags of a benchmark program. Unknown flags and bad numbers are rejected
 * with a message naming the flag, so a typo in a script fails the run instead of measuring the
 * wrong thing.
 */
final class BenchArgs {
  private final Map<String, String> values = new HashMap<>();

  private BenchArgs() {}

  static BenchArgs parse(String[] args, Set<String> known) {
    BenchArgs parsed = new BenchArgs();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (!flag.startsWith("--") || !known.contains(flag.substring(2))) {
        throw new IllegalArgumentException("unknown argument " + flag + "; known: --" + String.join(", --", known));
      }
      if (i + 1 == args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      parsed.values.put(flag.substring(2), args[++i]);
    }
    return parsed;
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  String string(String name, String otherwise) {
    return values.getOrDefault(name, otherwise);
  }

  String required(String name) {
    String v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v;
  }

  long positiveLong(String name, long otherwise) {
    return wholeNumber(name, 1, Long.MAX_VALUE, otherwise);
  }

  int positiveInt(String name, int otherwise) {
    return (int) wholeNumber(name, 1, Integer.MAX_VALUE, otherwise);
  }

  long nonNegativeLong(String name, long otherwise) {
    return wholeNumber(name, 0, Long.MAX_VALUE, otherwise);
  }

  int nonNegativeInt(String name, int otherwise) {
    return (int) wholeNumber(name, 0, Integer.MAX_VALUE, otherwise);
  }

  private long wholeNumber(String name, long min, long max, long otherwise) {
    String v = values.get(name);
    if (v == null) {
      return otherwise;
    }
    long n;
    try {
      n = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number, got " + v);
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException("--" + name + " must be " + min + ".." + max + ", got " + v);
    }
    return n;
  }

  /** Seconds, fractions allowed; zero allowed (no warm-up). */
  double seconds(String name, double otherwise) {
    String v = values.get(name);
    if (v == null) {
      return otherwise;
    }
    double s;
    try {
      s = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a number of seconds, got " + v);
    }
    if (!(s >= 0) || s > 3600) {
      throw new IllegalArgumentException("--" + name + " must be 0..3600 seconds, got " + v);
    }
    return s;
  }
}
