package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Where {@code ssh invite} runs: with --user on Linux alone, for oneself wherever permissions exist. */
class SshInviteHereTest {
  @Test
  void forOneselfOnLinuxAndMacosWithUserOnLinuxOnly() {
    assertThat(SshCommand.unsupportedHere(false, "Linux", true)).isEmpty();
    assertThat(SshCommand.unsupportedHere(true, "Linux", true)).isEmpty();
    assertThat(SshCommand.unsupportedHere(false, "Mac OS X", true)).isEmpty();
    assertThat(SshCommand.unsupportedHere(true, "Mac OS X", true))
        .hasValue("ssh invite --user works on Linux only; run ssh invite as that user instead");
  }

  @Test
  void notWhereFilesHaveNoPosixPermissions() {
    assertThat(SshCommand.unsupportedHere(false, "Windows 11", false))
        .hasValue("ssh invite needs POSIX file permissions for authorized_keys (Linux, macOS); this platform has none");
    assertThat(SshCommand.unsupportedHere(true, "Windows 11", false)).get().asString().contains("Linux only");
  }
}
