package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.Reporter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What share and open print about a connection they could not serve. */
class ConnectionReportTest {
  @Test
  void aRefusalIsPrintedEscapedWithOrWithoutVerbose() {
    for (boolean verbose : new boolean[] {false, true}) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
      new ConnectionReport(Reporter.to(err), verbose, err).refused("refused a stream: \u001b[2J\u009b2J\u202e");
      assertThat(bytes.toString(StandardCharsets.UTF_8)).as("verbose %s", verbose)
          .contains("refused a stream: \\x1b[2J\\x9b2J\\u202e").doesNotContain("\u001b", "\u009b", "\u202e");
    }
  }

  @Test
  void reasonsTheOtherSideVariesAreRememberedUpToABound() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    ConnectionReport report = new ConnectionReport(Reporter.SILENT, false, err);
    for (int i = 0; i < 10_000; i++) {
      report.refused(String.format("refused a stream from the other side: not a forwarded-connection stream"
          + " (starts with %06x)", i));
      assertThat(report.remembered()).isLessThanOrEqualTo(ConnectionReport.MAX_REMEMBERED);
    }
    report.refused("connection limit reached");
    report.refused("connection limit reached");
    assertThat(bytes.toString(StandardCharsets.UTF_8)).containsOnlyOnce("connection limit reached");
  }
}
