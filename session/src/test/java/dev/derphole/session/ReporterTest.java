package dev.derphole.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code --verbose} lines, and {@code derptun serve}'s log, on stderr. */
class ReporterTest {
  @Test
  void aDetailIsPrintedEscapedOnOneLine() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Reporter.to(new PrintStream(bytes, true, StandardCharsets.UTF_8))
        .event("client-disconnected", "0a1b2c3d (the other side failed: \u001b]0;pwned\u0007\nforged\u009b2J\u202e)");
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .startsWith("client-disconnected 0a1b2c3d (the other side failed: "
            + "\\x1b]0;pwned\\x07\\x0aforged\\x9b2J\\u202e) +")
        .hasLineCount(1);
  }
}
