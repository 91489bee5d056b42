package dev.derphole.cli.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;

/** The send/receive tests' frame: a fresh {@code from} and {@code to} directory in each test's dir. */
abstract class SendReceiveDirsIT extends RelayedIT {
  Path from;
  Path to;

  @BeforeEach
  void dirs() throws Exception {
    from = Files.createDirectory(dir.resolve("from"));
    to = Files.createDirectory(dir.resolve("to"));
  }
}
