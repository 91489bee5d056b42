package dev.derphole.session;

import java.io.PrintStream;

/**
 * Where a session reports its progress. {@code --verbose} prints each event on stderr as a line
 * that starts with the event name ({@code waiting-for-claim}, {@code claimed},
 * {@code connected-relay}, {@code connected-direct}, {@code stream-complete}, …), so scripts can
 * match on it.
 */
public interface Reporter {
  void event(String name, String detail);

  Reporter SILENT = (name, detail) -> { };

  static Reporter to(PrintStream err) {
    return (name, detail) -> {
      synchronized (err) {
        err.println(detail == null || detail.isEmpty() ? name : name + " " + detail);
        err.flush();
      }
    };
  }
}
