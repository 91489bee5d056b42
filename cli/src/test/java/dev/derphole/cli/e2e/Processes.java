package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Every process and helper thread one scope (a test, or a test class) starts, so that all of them
 * are ended at the end of that scope, whatever the test did. Closing kills each process with
 * {@code destroyForcibly} and waits for it; {@link #assertNoneLeft} then checks that no process
 * the test JVM started is still alive.
 */
final class Processes implements AutoCloseable {
  private static final long REAP_SECONDS = 20;

  private final List<Process> started = new CopyOnWriteArrayList<>();
  private final List<Thread> threads = new CopyOnWriteArrayList<>();

  /** The repository root: {@code bin/derphole} and {@code bin/derper} live under it. */
  static Path root() {
    return Path.of(System.getProperty("derphole.root", ".")).toAbsolutePath().normalize();
  }

  static Path bin(String tool) {
    return root().resolve("bin").resolve(tool);
  }

  Process start(ProcessBuilder pb) {
    try {
      Process p = pb.start();
      started.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + pb.command(), e);
    }
  }

  /** Starts {@code builders} connected stdout → stdin by OS pipes, like {@code a | b} in a shell. */
  List<Process> startPipeline(List<ProcessBuilder> builders) {
    try {
      List<Process> ps = ProcessBuilder.startPipeline(builders);
      started.addAll(ps);
      return ps;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start pipeline " + builders.stream()
          .map(ProcessBuilder::command).collect(Collectors.toList()), e);
    }
  }

  /** A daemon helper thread, started now and joined on close. */
  Thread thread(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
    return t;
  }

  /** Process ids of everything started here. */
  Set<Long> pids() {
    return started.stream().map(Process::pid).collect(Collectors.toSet());
  }

  /** Kills every process (destroyForcibly, then waitFor) and waits for the helper threads. */
  @Override
  public void close() throws InterruptedException {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : started) {
      p.waitFor(REAP_SECONDS, TimeUnit.SECONDS);
    }
    // Helper threads write to or read from those processes: with the processes gone they end.
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(REAP_SECONDS));
    }
  }

  /**
   * Everything this scope started has ended, and no other child process of the test JVM is alive
   * except {@code allowed} (a relay shared by a whole test class).
   */
  void assertNoneLeft(Set<Long> allowed) {
    for (Process p : started) {
      assertThat(p.isAlive()).as("process %d (%s) still alive", p.pid(), p.info().commandLine().orElse("?"))
          .isFalse();
    }
    for (Thread t : threads) {
      assertThat(t.isAlive()).as("helper thread %s still running", t.getName()).isFalse();
    }
    List<String> strays = new ArrayList<>();
    ProcessHandle.current().descendants()
        .filter(ProcessHandle::isAlive)
        .filter(h -> !allowed.contains(h.pid()))
        .forEach(h -> strays.add(h.pid() + " " + h.info().commandLine().orElse("?")));
    assertThat(strays).as("child processes of the test JVM still alive").isEmpty();
  }
}
