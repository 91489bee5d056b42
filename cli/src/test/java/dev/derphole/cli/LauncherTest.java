package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one line a runtime error becomes. */
class LauncherTest {
  @TempDir Path dir;

  @Test
  void fileErrorsSayWhatWentWrongNotJustThePath() {
    assertThat(Launcher.oneLine(new NoSuchFileException(dir.resolve("key.json").toString())))
        .isEqualTo(dir.resolve("key.json") + ": no such file or directory");
    assertThat(Launcher.oneLine(new NoSuchFileException(dir.resolve("relay/key.json").toString())))
        .isEqualTo(dir.resolve("relay/key.json") + ": no such directory");
    assertThat(Launcher.oneLine(new IOException(null, new AccessDeniedException("/etc/shadow"))))
        .isEqualTo("/etc/shadow: permission denied");
    assertThat(Launcher.oneLine(new FileSystemException("/a", "/b", "Invalid cross-device link")))
        .isEqualTo("/a -> /b: invalid cross-device link");
  }

  @Test
  void otherErrorsKeepTheirMessageOnOneLine() {
    assertThat(Launcher.oneLine(new IOException("first\nsecond"))).isEqualTo("first second");
    assertThat(Launcher.oneLine(new IllegalStateException())).isEqualTo("unexpected IllegalStateException");
  }

  @Test
  void theOtherSidesWordsInAMessageReachTheTerminalEscaped() {
    assertThat(Launcher.oneLine(new IOException("the other side failed: \u001b]52;c;aGk=\u0007\u009b2J\u202egnp.exe")))
        .isEqualTo("the other side failed: \\x1b]52;c;aGk=\\x07\\x9b2J\\u202egnp.exe");
  }
}
