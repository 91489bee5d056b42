package dev.derphole.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.logging.Handler;
import java.util.logging.Logger;

/**
 * stderr as {@code -q} and {@code -s} leave it. Status lines, progress and everything else written
 * to {@code System.err} are the default and vanish under either flag; what must stay is written to
 * {@link #output()} (the command's own output: a token for the other side, the address it listens
 * on; gone only under {@code -s}) or {@link #errors()} (a warning or an error that does not end the
 * command; gone under {@code -s}). The fatal error goes to picocli's writer, made before, and so
 * always stays. Log records are cut to warnings under {@code -q} and to nothing under {@code -s}.
 */
final class Stderr {
  enum Level { NORMAL, QUIET, SILENT }

  private static final PrintStream NOWHERE = new PrintStream(OutputStream.nullOutputStream(), true);

  private static volatile Level level = Level.NORMAL;
  private static volatile PrintStream real;
  private static java.util.logging.Level[] handlerLevels = new java.util.logging.Level[0];

  private Stderr() {}

  static Level level() {
    return level;
  }

  /** The command's output on stderr: kept under {@code -q}, dropped under {@code -s}. */
  static PrintStream output() {
    return level == Level.SILENT ? NOWHERE : real();
  }

  /** A warning or an error the command goes on after: kept under {@code -q}, dropped under {@code -s}. */
  static PrintStream errors() {
    return output();
  }

  private static PrintStream real() {
    PrintStream r = real;
    return r != null ? r : System.err;
  }

  /** Applies {@code l} until {@link #restore()}. */
  static synchronized void install(Level l) {
    level = l;
    if (l == Level.NORMAL) {
      return;
    }
    real = System.err;
    System.setErr(NOWHERE);
    Handler[] handlers = Logger.getLogger("").getHandlers();
    handlerLevels = new java.util.logging.Level[handlers.length];
    java.util.logging.Level floor = l == Level.SILENT ? java.util.logging.Level.OFF : java.util.logging.Level.WARNING;
    for (int i = 0; i < handlers.length; i++) {
      handlerLevels[i] = handlers[i].getLevel();
      if (handlers[i].getLevel().intValue() < floor.intValue()) {
        handlers[i].setLevel(floor);
      }
    }
  }

  static synchronized void restore() {
    if (level != Level.NORMAL && real != null) {
      System.setErr(real);
      Handler[] handlers = Logger.getLogger("").getHandlers();
      for (int i = 0; i < handlers.length && i < handlerLevels.length; i++) {
        handlers[i].setLevel(handlerLevels[i]);
      }
    }
    real = null;
    level = Level.NORMAL;
  }
}
