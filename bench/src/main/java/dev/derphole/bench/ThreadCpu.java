package dev.derphole.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where this process's threads spent an interval, summed by thread name, from Linux's
 * {@code /proc/self/task/*}/schedstat: time running on a CPU, and time runnable but waiting for one
 * (the run queue). On a shared 2-core machine the second tells "waited for the CPU" apart from
 * "waited for work": a thread that neither ran nor queued was idle. Names with next to nothing in
 * an interval are left out; where {@code /proc} cannot be read the result is empty.
 */
final class ThreadCpu {
  private static final Path TASKS = Path.of("/proc/self/task");
  private final Map<String, String> names = new HashMap<>();
  private final Map<String, long[]> stats = new HashMap<>();

  private ThreadCpu() {}

  static ThreadCpu now() {
    ThreadCpu t = new ThreadCpu();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      for (Path task : tasks) {
        try {
          String[] f = Files.readString(task.resolve("schedstat")).trim().split("\\s+");
          String tid = task.getFileName().toString();
          t.names.put(tid, Files.readString(task.resolve("comm")).trim());
          t.stats.put(tid, new long[] {Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])});
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      // no /proc: nothing to report
    }
    return t;
  }

  /**
   * For each thread name, {@code cpu_NAME} and {@code runq_NAME} in cores (1.0 = one core the whole
   * interval): time on a CPU, and time waiting in the run queue; and {@code kslices_NAME}, how many
   * thousand times it was put on a CPU (mostly wake-ups).
   */
  static Map<String, Double> between(ThreadCpu a, ThreadCpu b, double seconds) {
    Map<String, Double> cores = new TreeMap<>();
    b.stats.forEach((tid, s) -> {
      long[] before = a.stats.getOrDefault(tid, new long[3]);
      String name = key(b.names.get(tid));
      cores.merge("cpu_" + name, (s[0] - before[0]) / 1e9 / seconds, Double::sum);
      cores.merge("runq_" + name, (s[1] - before[1]) / 1e9 / seconds, Double::sum);
      cores.merge("kslices_" + name, (s[2] - before[2]) / 1e3, Double::sum);
    });
    cores.values().removeIf(c -> c < 0.005);
    return cores;
  }

  /** Thread names as result keys: one word, the numbers of pool threads folded together. */
  private static String key(String name) {
    return name.replaceAll("[^A-Za-z-]+", "").replace('-', '_').toLowerCase(Locale.ROOT);
  }
}
