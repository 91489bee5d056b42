package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private String out() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void theBarIsRedrawnInPlaceAndEndsWithTheAverage() {
    Progress p = new Progress(err, 3 << 20, true);
    p.update(1 << 20); // the first update always draws
    assertThat(out()).matches("\r 33%\\|#{7}\\.{13}\\| 1\\.0 MiB/3\\.0 MiB \\[00:00<(--:--|\\d\\d:\\d\\d), .+/s]");
    p.update(2 << 20); // within 100 ms of the last draw: not drawn
    assertThat(out()).doesNotContain("2.0 MiB/");
    p.finish(3 << 20, "Received");
    assertThat(out()).contains("\r100%|####################| 3.0 MiB/3.0 MiB [00:00<00:00, ")
        .containsPattern("\\R^Received 3\\.0 MiB in \\d+\\.\\d s \\(.+/s average\\)\\R$".replace("^", "(?m)^"));
  }

  @Test
  void withoutATerminalOnlyTheSummaryLineIsPrinted() {
    Progress p = new Progress(err, 1000, false);
    p.update(500);
    p.finish(1000, "Sent");
    assertThat(out()).doesNotContain("\r").doesNotContain("%|").matches("Sent 1000 B in \\d+\\.\\d s \\(.+/s average\\)\\R");
  }

  @Test
  void stderrIsATerminalByItsProcLinkOnLinuxAndByTheConsoleWithoutProc(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path pts = java.nio.file.Files.createSymbolicLink(dir.resolve("pts"), java.nio.file.Path.of("/dev/pts/3"));
    java.nio.file.Path file = java.nio.file.Files.createSymbolicLink(dir.resolve("file"), dir.resolve("out.log"));
    java.util.function.BooleanSupplier unasked = () -> {
      throw new AssertionError("the console is not asked where /proc answers");
    };
    assertThat(Progress.stderrIsTerminal(pts, unasked)).isTrue();
    assertThat(Progress.stderrIsTerminal(file, unasked)).isFalse();
    // macOS and Windows: no /proc/self/fd/2 at all
    assertThat(Progress.stderrIsTerminal(dir.resolve("no-proc"), () -> true)).isTrue();
    assertThat(Progress.stderrIsTerminal(dir.resolve("no-proc"), () -> false)).isFalse();
  }

  @Test
  void clockFormats() {
    assertThat(Progress.clock(0)).isEqualTo("00:00");
    assertThat(Progress.clock(83.9)).isEqualTo("01:23");
    assertThat(Progress.clock(3 * 3600 + 62)).isEqualTo("3:01:02");
  }

  @Test
  void aMistypedFileNameIsNoticedButTextIsNot() {
    assertThat(SendCommand.looksLikeAPath("./phto.jpg")).isTrue();
    assertThat(SendCommand.looksLikeAPath("report.pdf")).isTrue();
    assertThat(SendCommand.looksLikeAPath("/etc/nothing")).isTrue();
    assertThat(SendCommand.looksLikeAPath("hello world")).isFalse();
    assertThat(SendCommand.looksLikeAPath("hunter2")).isFalse();
    assertThat(SendCommand.looksLikeAPath("wait...")).isFalse();
  }
}
