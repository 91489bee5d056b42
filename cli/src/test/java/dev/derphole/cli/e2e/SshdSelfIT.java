package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sshd harness itself: a real sshd lets the client key in and runs a command, and refuses a
 * key that is not in its {@code authorized_keys}, so tests that log in through our tunnels prove
 * something. Needs {@code openssh-server} (installed by {@code .ci/run}).
 */
class SshdSelfIT {
  @Test
  void theClientKeyLogsInAndRunsACommand(@TempDir Path dir) throws Exception {
    try (Processes processes = new Processes()) {
      Sshd sshd = Sshd.start(processes, dir.resolve("sshd"));
      Process ssh = processes.start(new ProcessBuilder(sshd.ssh(List.of(), "echo", "logged-in-as-$(id -un)"))
          .redirectError(dir.resolve("ssh.stderr").toFile()));
      String out = new String(ssh.getInputStream().readAllBytes());
      assertThat(ssh.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(ssh.exitValue()).as("ssh stderr: %s%nsshd log: %s", Relay.read(dir.resolve("ssh.stderr")), sshd.log())
          .isZero();
      assertThat(out.strip()).isEqualTo("logged-in-as-" + Sshd.user());
      processes.close();
      processes.assertNoneLeft(Set.of());
    }
  }

  @Test
  void aKeyThatIsNotAuthorizedIsRefused(@TempDir Path dir) throws Exception {
    try (Processes processes = new Processes()) {
      Path keys = dir.resolve("elsewhere/authorized_keys");
      Files.createDirectories(keys.getParent());
      Sshd sshd = Sshd.start(processes, dir.resolve("sshd"), keys);
      Process ssh = processes.start(new ProcessBuilder(sshd.ssh(List.of(), "true"))
          .redirectError(dir.resolve("ssh.stderr").toFile()));
      ssh.getInputStream().readAllBytes();
      assertThat(ssh.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(ssh.exitValue()).isEqualTo(255);
      assertThat(Relay.read(dir.resolve("ssh.stderr"))).contains("Permission denied");
    }
  }
}
