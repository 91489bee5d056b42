package dev.derphole.session;

import dev.derphole.session.text.PeerText;
import java.io.PrintStream;

/**
 * Where a session reports its progress. {@code --verbose} prints each event on stderr as a line
 * that starts with the event name ({@code waiting-for-claim}, {@code claimed},
 * {@code connected-relay}, {@code connected-direct}, {@code stream-complete}, …), so scripts can
 * match on it. A detail may carry the other side's words (a client's close reason in the
 * {@code derptun serve} log), so it is printed through {@link PeerText}.
 */
public interface Reporter {
  void event(String name, String detail);

  Reporter SILENT = (name, detail) -> { };

  /** Prints each event with the time since this reporter was made: {@code connected-direct 1.2.3.4:5 … +0.412s}. */
  static Reporter to(PrintStream err) {
    long start = System.nanoTime();
    return (name, detail) -> {
      String elapsed = String.format("+%.3fs", (System.nanoTime() - start) / 1e9);
      synchronized (err) {
        err.println(detail == null || detail.isEmpty() ? name + " " + elapsed
            : name + " " + PeerText.printable(detail) + " " + elapsed);
        err.flush();
      }
    };
  }
}
