package dev.derphole.cli;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.text.PeerText;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;

/**
 * Runs a picocli command the way all three tools behave: help and usage on stderr, exit 0 for
 * success, 1 for a runtime error (one line, no stack trace unless DERPHOLE_DEBUG is set), 2 for a
 * usage error.
 */
final class Launcher {
  static final int OK = 0;
  static final int RUNTIME_ERROR = 1;
  static final int USAGE_ERROR = 2;

  /** Held so that its level is not lost when the JDK collects an unreferenced logger. */
  private static final Logger OURS = Logger.getLogger("dev.derphole");

  private Launcher() {}

  static int run(Object command, String toolName, Level logLevel, String... args) {
    configureLogging(logLevel);
    CommandLine cl = new CommandLine(command);
    PrintWriter err = cl.getErr();
    cl.setOut(err); // help goes to stderr: stdout carries data only
    cl.setExecutionStrategy(parsed -> {
      // --version prints where `derphole version` does: stdout, like most tools' --version.
      for (CommandLine c : parsed.asCommandLineList()) {
        if (c.isVersionHelpRequested() && !c.isUsageHelpRequested()) {
          c.printVersionHelp(System.out);
          System.out.flush();
          return OK;
        }
      }
      Stderr.install(OutputOptions.level(parsed));
      try {
        return new CommandLine.RunLast().execute(parsed);
      } finally {
        Stderr.restore();
      }
    });
    cl.setUsageHelpAutoWidth(true);
    cl.setExitCodeExceptionMapper(t -> RUNTIME_ERROR);
    cl.setParameterExceptionHandler((ex, a) -> {
      err.println(toolName + ": " + ex.getMessage());
      err.println("Run '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
      return USAGE_ERROR;
    });
    cl.setExecutionExceptionHandler((ex, parsed, result) -> {
      if (System.getenv("DERPHOLE_DEBUG") != null) {
        ex.printStackTrace(err);
      }
      err.println(toolName + ": " + oneLine(ex));
      return ex instanceof UsageException ? USAGE_ERROR : RUNTIME_ERROR;
    });
    return cl.execute(args);
  }

  static String oneLine(Throwable t) {
    Throwable c = t;
    while (c.getMessage() == null && c.getCause() != null) {
      c = c.getCause();
    }
    String m = c instanceof FileSystemException fs && fs.getFile() != null
        ? fs.getFile() + (fs.getOtherFile() != null ? " -> " + fs.getOtherFile() : "") + ": " + Failures.describe(fs)
        : Failures.describe(c);
    return PeerText.printable(m.replace('\n', ' ')); // the other side's words may be in it
  }


  /** One line per record on stderr. */
  private static void configureLogging(Level level) {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$s %5$s%6$s%n");
    }
    Logger root = Logger.getLogger("");
    String env = System.getenv("DERPHOLE_LOG");
    Level effective = level;
    if (env != null) {
      try {
        effective = Level.parse(env.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException ignored) {
        // keep the default
      }
    }
    // DERPHOLE_LOG raises our own loggers only: the JDK's (146 lines of CA certificates from
    // jdk.event.security at FINE) and Netty's keep the tool's level, or a quieter one if asked.
    root.setLevel(effective.intValue() > level.intValue() ? effective : level);
    OURS.setLevel(effective);
    for (var h : root.getHandlers()) {
      h.setLevel(effective);
      h.setFormatter(new java.util.logging.SimpleFormatter());
    }
    Logger.getLogger("io.netty").setLevel(effective.intValue() > Level.WARNING.intValue() ? effective : Level.WARNING);
  }

  /** A bad combination of flags found after parsing: exit 2. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }
}
