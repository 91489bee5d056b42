package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The messages README quotes for the user to recognise (every code span of Troubleshooting, every
 * other quoted error, and the refused-token messages of derptun) are the program's: each piece between placeholders ({@code …},
 * {@code ...}, {@code /PATH/NAME}, numbers and addresses, a command in backticks or a name in
 * quotation marks, which the program fills in) is in a string literal of the main
 * sources. Two pieces are the system's words, not ours: {@code Connection refused} and {@code
 * Address already in use}, which {@code Failures} passes on from real sockets (FailuresTest).
 */
class ReadmeMessagesTest {
  /** Placeholders README writes where the program prints a value. */
  private static final Pattern PLACEHOLDER = Pattern.compile(
      "`[^`]+`|\"[^\"]*\"|[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}|…|\\.\\.\\.|/PATH/NAME|\\bNAME\\b|\\[?[0-9a-f]*[0-9][0-9.:]*\\]?(:\\d+)?(?= |$|:|\\)|;|,)");
  /** The system's words for socket failures, carried through by Failures. */
  private static final List<String> SYSTEM_WORDS = List.of("Address already in use", "Connection refused");
  /** What Launcher puts in front of every error. */
  private static final Pattern TOOL = Pattern.compile("^(derphole|derptun|derper): ");

  static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !(Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("derp")))) {
      p = p.getParent();
    }
    assertThat(p).as("the project root above %s", Path.of("").toAbsolutePath()).isNotNull();
    return p;
  }

  /**
   * The quoted messages: Troubleshooting's code spans, the other quoted errors, and the
   * refused-token quotes of derptun.
   */
  static Stream<String> quotedMessages() throws IOException {
    // README writes a backtick inside a code span, and inside plain quotes, as \`: never a delimiter.
    String readme = Files.readString(root().resolve("README.md")).replace("\\`", "\u0001");
    List<String> out = new ArrayList<>();
    int split = readme.indexOf("\n## Troubleshooting");
    for (String text : spans(readme.substring(split))) {
      if (text.contains(" ") && !text.startsWith("-") && !text.startsWith("derphole ") && !text.startsWith("derptun ")
          && !text.startsWith("DERPHOLE_") && !text.startsWith("bin/") && !text.startsWith("mvn ")
          && !text.startsWith("kill ")) {
        out.add(text);
      }
    }
    // Elsewhere: the errors it quotes with their tool's prefix, and every quoted line with a "; " in it.
    for (String text : spans(readme.substring(0, split).replaceAll("(?s)```.*?```", ""))) {
      if (TOOL.matcher(text).find() || text.contains("; ")) {
        out.add(text);
      }
    }
    int refused = readme.indexOf("**Refused tokens**");
    String bullet = readme.substring(refused, readme.indexOf("\n- ", refused));
    Matcher quote = Pattern.compile("\"([^\"]+)\"").matcher(bullet.replaceAll("\\s*\\n\\s*", " "));
    while (quote.find()) {
      out.add(quote.group(1).replace('\u0001', '`'));
    }
    assertThat(out).as("messages found in README").hasSizeGreaterThan(10);
    return out.stream();
  }

  private static List<String> spans(String markdown) {
    List<String> spans = new ArrayList<>();
    Matcher m = Pattern.compile("`([^`]+)`").matcher(markdown);
    while (m.find()) {
      spans.add(m.group(1).replace('\u0001', '`').replaceAll("\\s*\\n\\s*", " "));
    }
    return spans;
  }

  private static String literals;

  /** Every string literal of the main sources, with literal + literal concatenations joined. */
  static synchronized String literals() throws IOException {
    if (literals == null) {
      StringBuilder all = new StringBuilder();
      try (Stream<Path> files = Files.walk(root())) {
        for (Path f : files.filter(f -> f.toString().endsWith(".java") && f.toString().contains("/src/main/java/")).toList()) {
          String src = Files.readString(f).replaceAll("\"\\s*\\+\\s*\"", "");
          Matcher m = Pattern.compile("\"((?:\\\\.|[^\"\\\\\\n])*)\"").matcher(src);
          while (m.find()) {
            all.append(m.group(1).replace("\\\"", "\"").replace("\\\\", "\\")).append('\n');
          }
        }
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
      literals = all.toString();
    }
    return literals;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("quotedMessages")
  void everyPieceOfTheQuotedMessageIsTheProgramsText(String message) throws IOException {
    String text = TOOL.matcher(message).replaceFirst("");
    for (String words : SYSTEM_WORDS) {
      text = text.replace(words, "…");
    }
    String corpus = literals();
    for (String piece : PLACEHOLDER.split(text)) {
      String p = piece.strip();
      if (p.length() >= 4) {
        assertThat(corpus).as("README's \"%s\": the piece \"%s\" in the program's messages", message, p).contains(p);
      }
    }
  }
}
