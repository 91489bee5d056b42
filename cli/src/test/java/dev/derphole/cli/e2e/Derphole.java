package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code bin/derphole} process: arguments, the DERP map in {@code DERPHOLE_DERP_MAP}, stdin
 * from a file or from a pipe the test writes, stdout and stderr in files the test reads while the
 * process runs.
 */
final class Derphole {
  /** How long a process may take to print its token or an awaited line. */
  static final Duration WAIT = Duration.ofSeconds(30);
  /** The token: the line after "On the other machine, run:" (a whole line, newline included). */
  static final Pattern TOKEN_LINE =
      Pattern.compile("(?m)^On the other machine, run:\\R^derphole pipe (\\S+)\\R");
  /** What a version-1 token looks like on its own. */
  static final Pattern TOKEN = Pattern.compile("dhoB[A-Za-z0-9_-]+");
  /** The token alone on a line, as {@code listen --print-token-only} prints it. */
  static final Pattern TOKEN_ONLY_LINE = Pattern.compile("(?m)^(" + TOKEN.pattern() + ")\\R");

  final String name;
  final Process process;
  /** The process's stdout, or null when it feeds the next process of a pipeline. */
  final Path stdout;
  final Path stderr;

  Derphole(String name, Process process, Path stdout, Path stderr) {
    this.name = name;
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /**
   * A {@code bin/derphole ARGS} with stderr to {@code dir/NAME.stderr} and, when {@code mapFile}
   * is not null, {@code DERPHOLE_DERP_MAP=mapFile}; stdin and stdout are left to the caller.
   */
  static ProcessBuilder builder(Path dir, String name, Path mapFile, String... args) {
    List<String> cmd = new ArrayList<>();
    // As from a terminal: SIGINT (Ctrl-C) at its default. A test run started in the background of
    // a non-interactive shell inherits SIGINT ignored, the JVM then never sees Ctrl-C, and the
    // Ctrl-C tests hang. env execs the launcher, so the pid stays the tool's.
    cmd.addAll(List.of("env", "--default-signal=INT"));
    cmd.add(Processes.bin("derphole").toString());
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectError(dir.resolve(name + ".stderr").toFile());
    cleanEnvironment(pb);
    if (mapFile != null) {
      pb.environment().put("DERPHOLE_DERP_MAP", mapFile.toString());
    }
    return pb;
  }

  /** No inherited setting may change what the processes under test do or print. */
  static void cleanEnvironment(ProcessBuilder pb) {
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("DERPHOLE_") && !k.equals("DERPHOLE_JAVA_OPTS"));
    env.keySet().removeIf(k -> k.toLowerCase(java.util.Locale.ROOT).matches("(https?|all|no)_proxy"));
  }

  /**
   * Starts {@code bin/derphole ARGS} in {@code dir}: stdin from {@code stdinFile}, or from a pipe
   * ({@link #stdin()}) when it is null; stdout to {@code dir/NAME.stdout}.
   */
  static Derphole start(Processes processes, Path dir, String name, Path mapFile, Path stdinFile,
                        String... args) {
    ProcessBuilder pb = builder(dir, name, mapFile, args);
    Path out = dir.resolve(name + ".stdout");
    pb.redirectOutput(out.toFile());
    pb.redirectInput(stdinFile != null
        ? ProcessBuilder.Redirect.from(stdinFile.toFile()) : ProcessBuilder.Redirect.PIPE);
    return new Derphole(name, processes.start(pb), out, dir.resolve(name + ".stderr"));
  }

  /** The write end of stdin, when it was started without a file. */
  OutputStream stdin() {
    return process.getOutputStream();
  }

  String stderr() {
    return Relay.read(stderr);
  }

  List<String> stderrLines() {
    String s = stderr();
    return s.isEmpty() ? List.of() : List.of(s.split("\\R"));
  }

  /** Waits for the token that {@code derphole listen} prints after "On the other machine, run:". */
  String awaitToken() throws InterruptedException {
    return awaitStderr(TOKEN_LINE).group(1);
  }

  /** Waits for the token line of {@code derphole listen --print-token-only}. */
  String awaitBareToken() throws InterruptedException {
    return awaitStderr(TOKEN_ONLY_LINE).group(1);
  }

  /** Waits until stderr matches {@code pattern}; fails if the process exits first or after {@link #WAIT}. */
  Matcher awaitStderr(Pattern pattern) throws InterruptedException {
    Matcher[] found = new Matcher[1];
    await("stderr to match " + pattern, () -> {
      Matcher m = pattern.matcher(stderr());
      if (m.find()) {
        found[0] = m;
        return true;
      }
      return false;
    });
    return found[0];
  }

  /** Waits until stderr has a line starting with {@code event} (a {@code --verbose} event). */
  void awaitEvent(String event) throws InterruptedException {
    awaitStderr(Pattern.compile("(?m)^" + Pattern.quote(event) + "( .*)?$"));
  }

  /** Waits until at least {@code bytes} have been written to stdout. */
  void awaitStdoutSize(long bytes) throws InterruptedException {
    await("at least " + bytes + " bytes on stdout", () -> {
      try {
        return Files.size(stdout) >= bytes;
      } catch (java.io.IOException e) {
        return false;
      }
    });
  }

  private void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (!process.isAlive() && !condition.getAsBoolean()) {
        fail("%s exited with %d while waiting for %s; stderr:%n%s", name, process.exitValue(), what, stderr());
      }
      if (System.nanoTime() > deadline) {
        fail("%s: no %s within %s; stderr:%n%s", name, what, WAIT, stderr());
      }
      Thread.sleep(20);
    }
  }

  /** Waits for the exit, failing when the process is still running after {@code timeout}. */
  int exitWithin(Duration timeout) throws InterruptedException {
    boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!exited) {
      fail("%s exits within %s; stderr so far:%n%s%nits threads:%n%s", name, timeout, stderr(), threadDump());
    }
    return process.exitValue();
  }

  /** What a JVM that will not exit is doing, from {@code jcmd PID Thread.print} (bounded). */
  private String threadDump() throws InterruptedException {
    try {
      Path dump = Files.createTempFile(stderr.getParent(), name + "-threads", ".txt");
      Process jcmd = new ProcessBuilder("jcmd", Long.toString(process.pid()), "Thread.print")
          .redirectErrorStream(true).redirectOutput(dump.toFile()).start();
      if (!jcmd.waitFor(20, TimeUnit.SECONDS)) {
        jcmd.destroyForcibly();
      }
      return Files.readString(dump);
    } catch (java.io.IOException e) {
      return "(no thread dump: " + e.getMessage() + ")";
    }
  }

  /** Waits up to {@code timeout} for the exit and checks the exit code. */
  void assertExit(int expected, Duration timeout) throws InterruptedException {
    int code = exitWithin(timeout);
    assertThat(code).as("%s exit code; stderr:%n%s", name, stderr()).isEqualTo(expected);
  }

  /**
   * stderr is exactly one line, {@code derphole: <message>}, without a stack trace; returns the
   * message.
   */
  String assertOneLineError() {
    String all = stderr();
    assertThat(all).as("%s stderr has no stack trace", name).doesNotContain("Exception").doesNotContain("\tat ");
    List<String> lines = stderrLines();
    assertThat(lines).as("%s stderr is one line:%n%s", name, all).hasSize(1);
    assertThat(lines.get(0)).startsWith("derphole: ");
    return lines.get(0).substring("derphole: ".length());
  }

  /** The last stderr line, if any. */
  Optional<String> lastStderrLine() {
    List<String> lines = stderrLines();
    return lines.isEmpty() ? Optional.empty() : Optional.of(lines.get(lines.size() - 1));
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + ")";
  }
}
