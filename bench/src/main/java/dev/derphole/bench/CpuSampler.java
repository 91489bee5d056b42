package dev.derphole.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the machine's CPU went during a measurement, from Linux's {@code /proc}: this process (the
 * benchmark's clients), the relay's processes, and everything else. On a small machine the three
 * share the same cores, so a relay figure means little without them.
 *
 * <p>Counts are clock ticks of user plus system time; the kernel's tick is 100 Hz
 * ({@code USER_HZ}) on every Linux this project runs on. Where {@code /proc} cannot be read the
 * figures are absent rather than wrong.
 */
final class CpuSampler {
  private static final double TICKS_PER_SECOND = 100;
  private static final Path PROC = Path.of("/proc");

  /**
   * One reading; {@code -1} where something could not be read. Client ticks are this process's and
   * those of the client processes named to {@link #read(List, List)}.
   */
  record Reading(long nanos, long machineBusyTicks, long clientTicks, long relayTicks) {}

  /** CPU used between two readings, in cores (1.0 = one core busy the whole time). */
  record Usage(double machine, double clients, double relay) {
    double others() {
      return Math.max(0, machine - clients - relay);
    }
  }

  private CpuSampler() {}

  /** @param relayPids the relay's processes, children included; may be empty */
  static Reading read(List<Long> relayPids) {
    return read(relayPids, List.of());
  }

  /**
   * @param relayPids the relay's processes, children included; may be empty
   * @param clientPids processes that count as clients besides this one (e.g. socat senders)
   */
  static Reading read(List<Long> relayPids, List<Long> clientPids) {
    long self = processTicks(PROC.resolve("self"));
    long others = ticksOf(clientPids);
    long clients = self < 0 || others < 0 ? -1 : self + others;
    return new Reading(System.nanoTime(), machineBusyTicks(), clients, ticksOf(relayPids));
  }

  private static long ticksOf(List<Long> pids) {
    long sum = 0;
    for (long pid : pids) {
      long t = processTicks(PROC.resolve(Long.toString(pid)));
      sum = t < 0 || sum < 0 ? -1 : sum + t;
    }
    return sum;
  }

  static Usage between(Reading a, Reading b) {
    double seconds = (b.nanos() - a.nanos()) / 1e9;
    return new Usage(cores(a.machineBusyTicks(), b.machineBusyTicks(), seconds),
        cores(a.clientTicks(), b.clientTicks(), seconds), cores(a.relayTicks(), b.relayTicks(), seconds));
  }

  /** Adds the CPU figures to a result line, leaving out those that could not be read. */
  static void addTo(ResultLine line, Usage u) {
    if (!Double.isNaN(u.relay())) {
      line.put("relay_cpu_cores", u.relay(), 2);
    }
    if (!Double.isNaN(u.clients())) {
      line.put("client_cpu_cores", u.clients(), 2);
    }
    if (!Double.isNaN(u.machine()) && !Double.isNaN(u.clients()) && !Double.isNaN(u.relay())) {
      line.put("other_cpu_cores", u.others(), 2);
    }
  }

  /** A process and the processes it started (socat forks one child per connection). */
  static List<Long> withDescendants(ProcessHandle p) {
    List<Long> pids = new ArrayList<>();
    pids.add(p.pid());
    p.descendants().forEach(d -> pids.add(d.pid()));
    return pids;
  }

  private static double cores(long from, long to, double seconds) {
    return from < 0 || to < 0 || seconds <= 0 ? Double.NaN : (to - from) / TICKS_PER_SECOND / seconds;
  }

  /** utime + stime of a process, all its threads; the name field may hold spaces, so count after ')'. */
  private static long processTicks(Path dir) {
    try {
      String stat = Files.readString(dir.resolve("stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** All CPUs' time minus idle and iowait, from the first line of /proc/stat. */
  private static long machineBusyTicks() {
    try {
      String[] f = Files.readAllLines(PROC.resolve("stat")).get(0).trim().split("\\s+");
      long busy = 0;
      for (int i = 1; i < f.length && i <= 7; i++) { // user nice system idle iowait irq softirq
        if (i != 4 && i != 5) { // idle, iowait
          busy += Long.parseLong(f[i]);
        }
      }
      return busy;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
