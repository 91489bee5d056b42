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
}
