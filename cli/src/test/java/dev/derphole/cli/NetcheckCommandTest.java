package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/** netcheck's own input: --timeout's forms and bounds; bad values are one line and exit 2, before any probe. */
class NetcheckCommandTest {
  @Test
  void timeoutsParseInSecondsMillisecondsAndMinutes() {
    assertThat(NetcheckCommand.parseTimeout("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(NetcheckCommand.parseTimeout("3")).isEqualTo(Duration.ofSeconds(3));
    assertThat(NetcheckCommand.parseTimeout("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(NetcheckCommand.parseTimeout("1500ms")).isEqualTo(Duration.ofMillis(1500));
    assertThat(NetcheckCommand.parseTimeout("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(NetcheckCommand.parseTimeout(" 500MS ")).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void badTimeoutsAreUsageErrors() {
    for (String bad : new String[] {"", "5x", "-1s", "1e3", "0", "499ms", "121s", "3m", "5 s", "9999999s", "\u001b[2J"}) {
      assertThatThrownBy(() -> NetcheckCommand.parseTimeout(bad)).as(bad).isInstanceOf(Launcher.UsageException.class)
          .satisfies(e -> assertThat(e.getMessage()).startsWith("--timeout").doesNotContain("\n").doesNotContain("\u001b"));
    }
  }

  @Test
  void aBadTimeoutExitsTwoWithOneLineOnStderrAndNothingOnStdout() {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      code = Launcher.run(new DerptunCommand(), "derptun", Level.WARNING, "netcheck", "--timeout", "soon");
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    assertThat(code).isEqualTo(Launcher.USAGE_ERROR);
    assertThat(o.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(e.toString(StandardCharsets.UTF_8))
        .isEqualTo("derptun: --timeout takes a duration such as 5s, 1500ms or 1m, got 'soon'" + System.lineSeparator());
  }
}
