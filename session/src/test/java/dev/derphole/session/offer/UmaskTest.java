package dev.derphole.session.offer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UmaskTest {
  @TempDir Path dir;

  @Test
  void theStatusLineIsReadAndAnythingElseIsNone() throws Exception {
    Path status = Files.writeString(dir.resolve("status"), "Name:\tjava\nUmask:\t0027\nState:\tR (running)\n");
    assertThat(Umask.fromStatus(status)).isEqualTo(027);
    Files.writeString(status, "Name:\tjava\nState:\tR (running)\n"); // a kernel before 4.7
    assertThat(Umask.fromStatus(status)).isNull();
    Files.writeString(status, "Umask:\tbanana\n");
    assertThat(Umask.fromStatus(status)).isNull();
    assertThat(Umask.fromStatus(dir.resolve("no-such-file"))).isNull();
  }

  @Test
  void theProbeFindsWhatTheKernelReportsAndLeavesNothing() throws Exception {
    Integer kernel = Umask.fromStatus(Path.of("/proc/self/status"));
    assumeThat(kernel).as("Linux reports the umask").isNotNull();
    assertThat(Umask.probe(dir)).isEqualTo(kernel);
    assertThat(Umask.of(dir)).isEqualTo(kernel);
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s).isEmpty();
    }
  }
}
