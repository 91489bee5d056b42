package dev.derphole.cli;

import dev.derphole.session.Reporter;
import dev.derphole.session.share.ConnectionEvents;
import dev.derphole.session.text.PeerText;
import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@code share} and {@code open} say about forwarded connections: with {@code --verbose}
 * every connection opened and closed, with the count still open; always, a connection that could
 * not be served (one line on stderr, the same reason at most once every {@link #REPEAT_NANOS}, so
 * a client hammering a full listener cannot flood the terminal).
 */
final class ConnectionReport implements ConnectionEvents {
  static final long REPEAT_NANOS = 5_000_000_000L;
  /**
   * Most reasons remembered for that: the other side chooses part of some (a stream's bad header
   * is shown in hex), so past this many the memory starts over rather than grow with them.
   */
  static final int MAX_REMEMBERED = 256;

  private final Reporter reporter;
  private final boolean verbose;
  private final PrintStream err;
  private final Map<String, Long> lastPrinted = new ConcurrentHashMap<>();

  ConnectionReport(Reporter reporter, boolean verbose, PrintStream err) {
    this.reporter = reporter;
    this.verbose = verbose;
    this.err = err;
  }

  /** How many reasons are remembered now (for the test of the bound). */
  int remembered() {
    return lastPrinted.size();
  }

  @Override
  public void opened(int open) {
    reporter.event("connection-opened", open + " open");
  }

  @Override
  public void closed(int open) {
    reporter.event("connection-closed", open + " open");
  }

  @Override
  public void refused(String why) {
    if (verbose) {
      reporter.event("connection-refused", why);
      return;
    }
    long now = System.nanoTime();
    Long last = lastPrinted.get(why);
    if (last == null || now - last >= REPEAT_NANOS) {
      if (last == null && lastPrinted.size() >= MAX_REMEMBERED) {
        lastPrinted.clear();
      }
      lastPrinted.put(why, now);
      synchronized (err) {
        err.println("derphole: " + PeerText.printable(why));
        err.flush();
      }
    }
  }
}
