package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's {@code tinyproxy} (package tinyproxy-bin), a real HTTP proxy for the proxy tests: its
 * configuration is written to a directory, it runs in the foreground ({@code -d}) and logs every
 * request, CONNECTs included, at level Info to {@code tinyproxy.log} there.
 */
public final class Tinyproxy {
  static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private final Process process;
  private final Path log;

  private Tinyproxy(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** Skips the test where tinyproxy is missing; fails it instead under CI=true (.ci/run installs it). */
  public static void assumeInstalled() {
    boolean there = Files.isExecutable(Path.of("/usr/bin/tinyproxy")) || Files.isExecutable(Path.of("/usr/sbin/tinyproxy"));
    if (!there && "true".equals(System.getenv("CI"))) {
      Assertions.fail("tinyproxy is missing (CI=true, and .ci/run installs tinyproxy-bin)");
    }
    Assumptions.assumeTrue(there, "tinyproxy is missing (apt-get install tinyproxy-bin)");
  }

  /** The configuration: listening on {@code listen:port}, clients from {@code allow}, Basic auth when user is set. */
  public static String config(Path dir, String listen, int port, String allow, String user, String password) {
    return "Port " + port + "\n"
        + "Listen " + listen + "\n"
        + "Timeout 60\n"
        + "LogFile \"" + dir.resolve("tinyproxy.log") + "\"\n"
        + "LogLevel Info\n"
        + "MaxClients 50\n"
        + "Allow " + allow + "\n"
        + (user != null ? "BasicAuth " + user + " " + password + "\n" : "")
        + "PidFile \"" + dir.resolve("tinyproxy.pid") + "\"\n";
  }

  /**
   * Writes the configuration to {@code dir/tinyproxy.conf} and starts {@code tinyproxy -d} through
   * {@code starter} (a plain ProcessBuilder, or a namespace's exec), returning once it accepts.
   */
  public static Tinyproxy start(Path dir, String config, Function<List<String>, Process> starter)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path conf = dir.resolve("tinyproxy.conf");
    Files.writeString(conf, config);
    Path log = dir.resolve("tinyproxy.log");
    Process p = starter.apply(List.of("tinyproxy", "-d", "-c", conf.toString()));
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!Relay.read(log).contains("Accepting connections")) {
      if (!p.isAlive()) {
        fail("tinyproxy exited with %d; its log:%n%s", p.exitValue(), Relay.read(log));
      }
      if (System.nanoTime() > deadline) {
        fail("tinyproxy did not start within %s; its log:%n%s", START_TIMEOUT, Relay.read(log));
      }
      Thread.sleep(20);
    }
    return new Tinyproxy(p, log);
  }

  /** Everything it logged so far. */
  public String log() {
    return Relay.read(log);
  }

  public Process process() {
    return process;
  }
}
