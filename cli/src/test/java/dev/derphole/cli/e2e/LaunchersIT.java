package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The launchers run the shaded jar: version on stdout, exit 0; help on stderr. */
class LaunchersIT {
  static Path root() {
    return Path.of(System.getProperty("derphole.root", ".")).toAbsolutePath();
  }

  @Test
  void versionPrintsOnStdout() throws Exception {
    for (String tool : new String[] {"derphole", "derptun"}) {
      Process p = new ProcessBuilder(root().resolve("bin").resolve(tool).toString(), "version")
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      String out = new String(p.getInputStream().readAllBytes()).strip();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isZero();
      assertThat(out).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }
    assertThat(Files.isExecutable(root().resolve("bin/derper"))).isTrue();
  }
}
