package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;


/**
 * The frame of every end-to-end test class that runs real processes against one shared relay: a
 * {@code bin/derper} per test class ({@link #relay}, started in {@link #shared}), a fresh
 * {@link #processes} scope and directory per test. After each test everything the test started
 * has ended and the relay is still alive; after the class, the relay and whatever the class
 * started in {@link #shared} are gone. Subclasses add their own {@code @BeforeAll} (run after this
 * one's) for more shared processes.
 */
abstract class RelayedIT {
  static Processes shared;
  static Relay relay;

  final Processes processes = new Processes();
  @TempDir Path dir;

  @BeforeAll
  static void startSharedRelay(@TempDir Path relayDir) throws Exception {
    shared = new Processes();
    relay = Relay.start(shared, relayDir.resolve("relay"), false);
  }

  @AfterAll
  static void stopShared() throws Exception {
    shared.close();
    shared.assertNoneLeft(Set.of());
  }

  @AfterEach
  void stopProcesses() throws Exception {
    processes.close();
    processes.assertNoneLeft(shared.pids());
    assertThat(relay.isAlive()).as("the relay survives every test; stderr:%n%s", relay.stderr()).isTrue();
  }
}
