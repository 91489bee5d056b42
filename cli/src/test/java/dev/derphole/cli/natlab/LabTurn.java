package dev.derphole.cli.natlab;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One NAT lab at a time across the JVMs of one build. Failsafe runs the end-to-end tests in
 * several forks (cli/pom.xml), and a lab test must not overlap another lab test: their paths,
 * promotion and loss figures need the CPU a lab gets on its own. {@link LabTurnExtension} takes
 * the turn (a lock on the file named by {@code -Dderphole.natlab.lock}, which failsafe sets) for a
 * whole lab test class, {@link NatLab#up} for each lab (then {@link NatLab#close} gives it back);
 * a JVM that holds it already takes it again without waiting. Without the
 * property (one JVM, e.g. a test run by hand) there is nothing to share it with, and no lock.
 */
final class LabTurn {
  static final String PROPERTY = "derphole.natlab.lock";

  private static int holders;
  private static FileChannel channel;
  private static FileLock lock;

  private LabTurn() {}

  /** Waits until no other JVM of the build has a lab up. */
  static synchronized void take() throws IOException {
    String file = System.getProperty(PROPERTY);
    if (holders++ > 0 || file == null || file.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    try {
      channel = FileChannel.open(Path.of(file), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      lock = channel.lock();
    } catch (IOException | RuntimeException e) {
      holders--;
      closeChannel();
      throw e;
    }
    double waited = (System.nanoTime() - start) / 1e9;
    if (waited >= 1) {
      System.out.printf("NAT lab: waited %.1f s for another fork's lab to come down%n", waited);
    }
  }

  /** Gives the turn back once the last lab this JVM holds is down. */
  static synchronized void give() {
    if (holders <= 0 || --holders > 0) {
      return;
    }
    closeChannel();
  }

  private static void closeChannel() {
    try {
      if (channel != null) {
        channel.close(); // releases the lock
      }
    } catch (IOException ignored) {
      // the lock goes with the channel all the same, and with the process at the latest
    } finally {
      lock = null;
      channel = null;
    }
  }
}
