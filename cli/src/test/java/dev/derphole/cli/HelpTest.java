package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every command and subcommand of the three tools answers {@code --help}: exit 0, its usage on
 * stderr, nothing on stdout (which only ever carries data); no example writes a secret token with
 * the shell's {@code >}.
 */
class HelpTest {
  record Case(String tool, List<String> path) {
    @Override
    public String toString() {
      return tool + " " + String.join(" ", path) + " --help";
    }
  }

  /** The widest a help line may be. */
  static final int MAX_COLUMNS = 100;
  /** The longest summary: it fits the command list of its parent on one line. */
  static final int MAX_SUMMARY = 78;

  static Stream<Case> everyCommand() {
    List<Case> cases = new ArrayList<>();
    collect("derphole", new CommandLine(new DerpholeCommand()), List.of(), cases);
    collect("derptun", new CommandLine(new DerptunCommand()), List.of(), cases);
    collect("derper", new CommandLine(new DerperCommand()), List.of(), cases);
    return cases.stream();
  }

  private static void collect(String tool, CommandLine cl, List<String> path, List<Case> out) {
    if (!cl.getCommandName().equals("help")) {
      out.add(new Case(tool, path));
    }
    cl.getSubcommands().forEach((name, sub) -> {
      if (name.equals(sub.getCommandName())) { // aliases point at the same command
        List<String> p = new ArrayList<>(path);
        p.add(name);
        collect(tool, sub, p, out);
      }
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyCommand")
  void answersHelpOnStderr(Case c) {
    PrintStream err = System.err;
    PrintStream out = System.out;
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    int code;
    try {
      System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
      System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
      List<String> args = new ArrayList<>(c.path());
      args.add("--help");
      Object command = switch (c.tool()) {
        case "derphole" -> new DerpholeCommand();
        case "derptun" -> new DerptunCommand();
        default -> new DerperCommand();
      };
      code = Launcher.run(command, c.tool(), Level.WARNING, args.toArray(String[]::new));
    } finally {
      System.setErr(err);
      System.setOut(out);
    }
    String usage = errBytes.toString(StandardCharsets.UTF_8);
    assertThat(code).as("exit code; stderr:%n%s", usage).isZero();
    assertThat(usage).startsWith("Usage: " + c.tool());
    assertThat(outBytes.size()).as("bytes on stdout").isZero();
    assertThat(usage.lines()).as("lines of %s wider than %d columns", c, MAX_COLUMNS)
        .allSatisfy(l -> assertThat(l.codePointCount(0, l.length())).as(l).isLessThanOrEqualTo(MAX_COLUMNS));
    // A token written by the shell's `>` gets the umask's mode (usually 0644): examples use --output (0600).
    assertThat(usage).as("an example that redirects a token into a file")
        .doesNotContainPattern("derptun token\\b[^\\n]*>");
  }

  /**
   * The summary (the first description line, which a parent's command list shows) is one short,
   * complete sentence: a capital first, a full stop last, no sentence break inside, never a line
   * that stops where the wrapping of a longer text happened to cut it.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("everyCommand")
  void everySummaryIsOneShortCompleteSentence(Case c) {
    CommandLine cl = new CommandLine(switch (c.tool()) {
      case "derphole" -> new DerpholeCommand();
      case "derptun" -> new DerptunCommand();
      default -> new DerperCommand();
    });
    for (String name : c.path()) {
      cl = cl.getSubcommands().get(name);
    }
    String[] header = cl.getCommandSpec().usageMessage().header();
    String[] description = cl.getCommandSpec().usageMessage().description();
    String summary = header.length > 0 ? header[0] : description[0];
    assertThat(summary).as("summary of %s", c)
        .matches("[A-Z].*[.!?]")
        .doesNotContainPattern("[.!?] +[A-Za-z]")
        .hasSizeLessThanOrEqualTo(MAX_SUMMARY);
  }

  private record Run(int code, String out, String err) {}

  private static Run run(String tool, String... args) {
    PrintStream err = System.err;
    PrintStream out = System.out;
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
      System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
      Object command = switch (tool) {
        case "derphole" -> new DerpholeCommand();
        case "derptun" -> new DerptunCommand();
        default -> new DerperCommand();
      };
      int code = Launcher.run(command, tool, Level.WARNING, args);
      return new Run(code, outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(err);
      System.setOut(out);
    }
  }

  @org.junit.jupiter.api.Test
  void versionFlagAndVersionCommandBothPrintOnStdout() {
    String version = run("derphole", "version").out();
    assertThat(version).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\n");
    for (String[] cmd : new String[][] {{"derphole", "--version"}, {"derptun", "--version"}, {"derper", "--version"},
        {"derphole", "listen", "--version"}, {"derptun", "version"}}) {
      Run r = run(cmd[0], java.util.Arrays.copyOfRange(cmd, 1, cmd.length));
      assertThat(r.code()).as(String.join(" ", cmd)).isZero();
      assertThat(r.out()).as(String.join(" ", cmd)).isEqualTo(version);
      assertThat(r.err()).as(String.join(" ", cmd)).isEmpty();
    }
  }

  @org.junit.jupiter.api.Test
  void noCommandAtAllIsAUsageErrorWithHelpOnStderr() {
    for (String tool : new String[] {"derphole", "derptun"}) {
      Run r = run(tool);
      assertThat(r.code()).as(tool).isEqualTo(Launcher.USAGE_ERROR);
      assertThat(r.err()).as(tool).startsWith("Usage: " + tool);
      assertThat(r.out()).as(tool).isEmpty();
    }
  }
}
