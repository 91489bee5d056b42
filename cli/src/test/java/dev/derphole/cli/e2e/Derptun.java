package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/derptun} processes for the end-to-end tests: the same {@link Derphole} handle (stdout
 * and stderr in files, awaited lines, exit codes) with derptun's launcher and environment.
 */
final class Derptun {
  static final Pattern LISTENING = Pattern.compile("(?m)^listening on (127\\.0\\.0\\.1:(\\d+))$");
  static final Duration TOKEN_EXIT = Duration.ofSeconds(60);

  private Derptun() {}

  /** {@code bin/derptun ARGS} with stderr to {@code dir/NAME.stderr} and the relay's map in the environment. */
  static ProcessBuilder builder(Path dir, String name, Path mapFile, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Processes.bin("derptun").toString());
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectError(dir.resolve(name + ".stderr").toFile());
    environment(pb, mapFile);
    return pb;
  }

  /** No inherited DERPHOLE_ setting, the test relay's map, and loopback candidates allowed (one machine). */
  static void environment(ProcessBuilder pb, Path mapFile) {
    Derphole.cleanEnvironment(pb);
    if (mapFile != null) {
      pb.environment().put("DERPHOLE_DERP_MAP", mapFile.toString());
    }
    pb.environment().put("DERPHOLE_ALLOW_LOOPBACK", "1");
  }

  static Derphole start(Processes processes, Path dir, String name, Path mapFile, String... args) {
    ProcessBuilder pb = builder(dir, name, mapFile, args);
    Path out = dir.resolve(name + ".stdout");
    pb.redirectOutput(out.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    return new Derphole(name, processes.start(pb), out, dir.resolve(name + ".stderr"));
  }

  /**
   * Runs a {@code derptun token …} command that must succeed, and returns the token: stdout is
   * exactly the token and a newline, stderr is empty.
   */
  static String token(Processes processes, Path dir, String name, Path mapFile, String prefix, String... args)
      throws Exception {
    Derphole p = start(processes, dir, name, mapFile, args);
    p.assertExit(0, TOKEN_EXIT);
    String out = Files.readString(p.stdout, StandardCharsets.US_ASCII);
    assertThat(out).as("stdout of derptun %s", String.join(" ", args)).matches(Pattern.quote(prefix) + "[A-Za-z0-9_-]+\n");
    assertThat(p.stderr()).as("stderr of derptun %s", String.join(" ", args)).isEmpty();
    return out.strip();
  }

  /** Writes a token to {@code dir/name} and returns the path. */
  static Path file(Path dir, String name, String token) throws IOException {
    return Files.writeString(dir.resolve(name), token + "\n");
  }

  /** The port {@code derptun open} listens on, from its "listening on" line. */
  static int listeningPort(Derphole open) throws InterruptedException {
    Matcher m = open.awaitStderr(LISTENING);
    return Integer.parseInt(m.group(2));
  }

  /** stderr is one line, {@code derptun: <message>}, without a stack trace; returns the message. */
  static String oneLineError(Derphole p) {
    String all = p.stderr();
    assertThat(all).as("%s stderr has no stack trace", p.name).doesNotContain("Exception").doesNotContain("\tat ");
    List<String> lines = p.stderrLines();
    assertThat(lines).as("%s stderr is one line:%n%s", p.name, all).hasSize(1);
    assertThat(lines.get(0)).startsWith("derptun: ");
    return lines.get(0).substring("derptun: ".length());
  }

  /** Runs {@code cmd} (ssh, scp) to completion with the derptun environment; returns stdout, asserting exit 0. */
  static String run(Processes processes, Path dir, String name, Path mapFile, List<String> cmd, Duration timeout)
      throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(dir.resolve(name + ".stdout").toFile())
        .redirectError(dir.resolve(name + ".stderr").toFile());
    environment(pb, mapFile);
    Process p = processes.start(pb);
    assertThat(p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)).as("%s finishes within %s", name, timeout).isTrue();
    String err = Relay.read(dir.resolve(name + ".stderr"));
    assertThat(p.exitValue()).as("%s exit code; stderr:%n%s", name, err).isZero();
    return Relay.read(dir.resolve(name + ".stdout"));
  }

  /** The ProxyCommand option that runs {@code derptun connect} with a token file. */
  static List<String> proxyCommand(Path tokenFile, String... extra) {
    return List.of("-o", "ProxyCommand=" + Processes.bin("derptun") + " connect " + String.join(" ", extra)
        + " --token-file " + tokenFile + " --stdio");
  }
}
