package dev.derphole.cli.natlab;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Test classes that need the machine to themselves while the others share it, across the JVMs of
 * one build: every class holds a shared lock on the file {@code -Dderphole.it.alone.lock} names,
 * and the classes {@code -Dderphole.it.alone} lists (comma-separated class names; Arm64IT, whose
 * emulated end misses the relay's 15 s handshake when another JVM's test takes a core) hold it
 * exclusively. A second file is the turnstile: a class waiting to be alone holds it, so the other
 * JVM cannot keep taking shared turns class after class ahead of it. Without the property, no lock.
 */
final class AloneTurn {
  private static FileChannel channel;
  private static FileLock lock;

  private AloneTurn() {}

  static synchronized void take(Class<?> testClass) throws IOException {
    String file = System.getProperty("derphole.it.alone.lock");
    if (file == null || file.isEmpty() || channel != null) {
      return;
    }
    Set<String> alone = Arrays.stream(System.getProperty("derphole.it.alone", "").split(","))
        .map(String::strip).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    boolean exclusive = alone.contains(testClass.getName()) || alone.contains(testClass.getSimpleName());
    long start = System.nanoTime();
    try (FileChannel gate = FileChannel.open(Path.of(file + ".gate"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock ignored = gate.lock()) {
      channel = FileChannel.open(Path.of(file), StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      lock = channel.lock(0, Long.MAX_VALUE, !exclusive);
    } catch (IOException | RuntimeException e) {
      give();
      throw e;
    }
    double waited = (System.nanoTime() - start) / 1e9;
    if (waited >= 1) {
      System.out.printf("%s: waited %.1f s for %s%n", testClass.getSimpleName(), waited,
          exclusive ? "the machine to itself" : "a class that runs alone");
    }
  }

  static synchronized void give() {
    try {
      if (channel != null) {
        channel.close(); // releases the lock
      }
    } catch (IOException ignored) {
      // the lock goes with the channel all the same, and with the process at the latest
    } finally {
      channel = null;
      lock = null;
    }
  }
}
