package dev.derphole.cli;

import java.io.PrintStream;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How a command that issues a token shows it for the other side: the command line to run there,
 * on stderr (stdout carries data), in one write so that lines of other threads cannot land inside
 * it. This is the command's output: it stays under {@code -q}; {@code -s} is refused with it (see
 * {@link OutputOptions}).
 */
final class TokenDisplay {
  @Option(names = "--print-token-only", description = "Print just the token on stderr, nothing else.")
  boolean tokenOnly;

  @Mixin
  QrOption qr;

  /** {@code command} is what the other side runs before the token, e.g. {@code derphole pipe}. */
  void show(String command, String token) {
    String nl = System.lineSeparator();
    String line = command + " " + token;
    String text = tokenOnly ? token + nl : "On the other machine, run:" + nl + line + nl;
    byte[] b = QrOption.withCode(text, tokenOnly ? token : line, qr.on);
    PrintStream out = Stderr.output();
    out.write(b, 0, b.length);
    out.flush();
  }
}
