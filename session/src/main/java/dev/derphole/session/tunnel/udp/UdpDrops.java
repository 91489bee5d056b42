package dev.derphole.session.tunnel.udp;

import dev.derphole.session.Reporter;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Datagrams UDP forwarding dropped, by reason: counted always, and reported as at most one
 * {@code udp-dropped} line per {@link #REPORT_INTERVAL} (verbose), so a flood does not flood the
 * log. Thread-safe.
 */
public final class UdpDrops {
  static final Duration REPORT_INTERVAL = Duration.ofSeconds(1);

  /** Why a datagram was dropped. */
  public enum Reason {
    OVERSIZED("over " + UdpFrame.MAX_PAYLOAD + " bytes"),
    NO_TUNNEL("tunnel down"),
    FLOW_LIMIT("flow limit reached"),
    BACKLOG("socket or QUIC queue full"),
    UNKNOWN_FLOW("unknown flow"),
    MALFORMED("malformed");

    final String label;

    Reason(String label) {
      this.label = label;
    }
  }

  private final Reporter reporter;
  private final ScheduledExecutorService timer;
  private final AtomicLongArray total = new AtomicLongArray(Reason.values().length);
  private final AtomicLongArray burst = new AtomicLongArray(Reason.values().length);
  private final AtomicBoolean reportDue = new AtomicBoolean();

  UdpDrops(Reporter reporter, ScheduledExecutorService timer) {
    this.reporter = reporter;
    this.timer = timer;
  }

  void drop(Reason why) {
    total.incrementAndGet(why.ordinal());
    burst.incrementAndGet(why.ordinal());
    if (reportDue.compareAndSet(false, true)) {
      try {
        timer.schedule(this::report, REPORT_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // closing
      }
    }
  }

  /** Datagrams dropped for {@code why} since the start. */
  public long count(Reason why) {
    return total.get(why.ordinal());
  }

  private void report() {
    reportDue.set(false);
    StringBuilder line = new StringBuilder();
    long n = 0;
    for (Reason r : Reason.values()) {
      long k = burst.getAndSet(r.ordinal(), 0);
      if (k > 0) {
        line.append(line.length() == 0 ? "" : ", ").append(r.label).append(": ").append(k);
        n += k;
      }
    }
    if (n > 0) {
      reporter.event("udp-dropped", n + " in the last " + REPORT_INTERVAL.toSeconds() + " s (" + line + ")");
    }
  }
}
