package dev.derphole.cli;

import dev.derphole.session.offer.ByteSize;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A progress bar on stderr for a transfer of known size:
 * {@code  42%|########............| 1.5 MiB/3.5 MiB [00:03<00:04, 512.0 KiB/s]}, redrawn in place at
 * most {@value #REDRAWS_PER_SECOND} times a second; then one summary line with the average rate.
 * When stderr is not a terminal (or with {@code --hide-progress}) there is no bar, only the summary.
 */
final class Progress {
  static final int REDRAWS_PER_SECOND = 10;
  static final int WIDTH = 20;
  /** Weight of the newest sample in the displayed rate. */
  static final double SMOOTHING = 0.3;

  private final PrintStream err;
  private final long total;
  private final boolean bar;
  private final long start = System.nanoTime();
  private boolean drawn;
  private long lastDraw;
  private long lastBytes;
  private long lastSample = start;
  private double rate = -1;
  private int drawnWidth;

  Progress(PrintStream err, long total, boolean bar) {
    this.err = err;
    this.total = total;
    this.bar = bar;
  }

  /**
   * Whether stderr is a terminal. Linux: fd 2 is a tty or pty device. Without {@code /proc}
   * (macOS, Windows) Java cannot ask about stderr alone: the JVM's console stands for it, which
   * exists while the process runs attached to a terminal.
   */
  static boolean stderrIsTerminal() {
    return stderrIsTerminal(Path.of("/proc/self/fd/2"), Progress::consoleIsTerminal);
  }

  static boolean stderrIsTerminal(Path fd2, java.util.function.BooleanSupplier console) {
    try {
      String target = Files.readSymbolicLink(fd2).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (java.nio.file.NoSuchFileException | UnsupportedOperationException noProc) {
      return console.getAsBoolean();
    } catch (Exception e) {
      return false;
    }
  }

  /** {@code System.console()} is a terminal: Java 22+ says so with {@code isTerminal()}, Java 17 has a console only then. */
  private static boolean consoleIsTerminal() {
    java.io.Console c = System.console();
    if (c == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
    } catch (NoSuchMethodException before22) {
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /** Called with the bytes done so far, as often as the transfer likes. */
  synchronized void update(long done) {
    if (!bar) {
      return;
    }
    long now = System.nanoTime();
    if (drawn && now - lastDraw < 1_000_000_000L / REDRAWS_PER_SECOND) {
      return;
    }
    sample(now, done);
    drawn = true;
    lastDraw = now;
    draw(done, now);
  }

  private void sample(long now, long done) {
    double seconds = (now - lastSample) / 1e9;
    if (seconds > 0.05) {
      double r = (done - lastBytes) / seconds;
      rate = rate < 0 ? r : SMOOTHING * r + (1 - SMOOTHING) * rate;
      lastSample = now;
      lastBytes = done;
    }
  }

  private void draw(long done, long now) {
    double fraction = total == 0 ? 1 : Math.min(1, (double) done / total);
    int filled = (int) Math.round(fraction * WIDTH);
    double elapsed = (now - start) / 1e9;
    String eta = done >= total ? "00:00" : rate > 0 ? clock((total - done) / rate) : "--:--";
    String line = String.format(Locale.ROOT, "%3.0f%%|%s%s| %s/%s [%s<%s, %s/s]", fraction * 100,
        "#".repeat(filled), ".".repeat(WIDTH - filled), ByteSize.format(done), ByteSize.format(total),
        clock(elapsed), eta, ByteSize.format((long) Math.max(rate, 0)));
    int pad = Math.max(0, drawnWidth - line.length());
    err.print("\r" + line + " ".repeat(pad));
    err.flush();
    drawnWidth = line.length();
  }

  /** Ends the bar (full) and prints {@code verb SIZE in TIME (RATE average)}. */
  synchronized void finish(long done, String verb) {
    long now = System.nanoTime();
    double seconds = Math.max((now - start) / 1e9, 1e-6);
    if (bar) {
      rate = done / seconds;
      draw(done, now);
      err.print(System.lineSeparator());
    }
    err.println(String.format(Locale.ROOT, "%s %s in %.1f s (%s/s average)", verb, ByteSize.format(done), seconds,
        ByteSize.format((long) (done / seconds))));
    err.flush();
  }

  /** Erases a partly drawn bar before an error message. */
  synchronized void abandon() {
    if (bar && drawnWidth > 0) {
      err.print(System.lineSeparator());
      err.flush();
      drawnWidth = 0;
    }
  }

  static String clock(double seconds) {
    long s = (long) seconds;
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
  }
}
