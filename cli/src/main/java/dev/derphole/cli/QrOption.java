package dev.derphole.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Option;

/** {@code --qr}: show what the other side needs as a QR code on stderr too. */
final class QrOption {
  @Option(names = "--qr", description = "Also show what the other side needs as a QR code on stderr, for a phone to scan.")
  boolean on;

  /** {@code text} followed, with {@code --qr}, by its code for {@code payload}: UTF-8, in one write. */
  static byte[] withCode(String text, String payload, boolean qr) {
    return (qr ? text + Qr.render(payload, Qr.colourAllowed()) : text).getBytes(StandardCharsets.UTF_8);
  }

  /** With {@code --qr}: {@code heading}, then the code for {@code payload}, on stderr (kept under -q). */
  void show(String heading, String payload) {
    if (on) {
      PrintStream out = Stderr.output();
      byte[] b = withCode(heading + System.lineSeparator(), payload, true);
      out.write(b, 0, b.length);
      out.flush();
    }
  }
}
