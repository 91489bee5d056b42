package dev.derphole.session.text;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class PeerTextTest {
  /** What a terminal or a reader must never get from the other side. */
  private static boolean forbidden(int c) {
    return c <= 0x1F || c >= 0x7F && c <= 0x9F // C0, DEL, C1
        || c == 0x061C || c == 0x200E || c == 0x200F || c >= 0x202A && c <= 0x202E || c >= 0x2066 && c <= 0x2069
        || c == 0x2028 || c == 0x2029 || c >= 0xD800 && c <= 0xDFFF;
  }

  /** Mostly the dangerous characters, with printable ASCII, other scripts and emoji between them. */
  @Provide
  Arbitrary<String> hostile() {
    Arbitrary<String> dangerous = Arbitraries.of("\u001b", "\u009b", "\u009d", "\u0007", "\u007f", "\n", "\r", "\u0000",
        "\u202e", "\u2066", "\u2069", "\u200f", "\u061c", "\u2028", "\ud800", "\udfff");
    Arbitrary<String> ordinary = Arbitraries.of("a", "]52;c;", "[2J", "\\", "\"", "é", "日本", "\ud83d\ude00",
        "\u00a0", "\u0100", "\u202f", "x".repeat(40));
    Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(20);
    return Arbitraries.oneOf(dangerous, ordinary, any).list().ofMaxSize(400).map(l -> String.join("", l));
  }

  @Property
  void nothingForbiddenSurvives(@ForAll("hostile") String text) {
    for (String out : new String[] {PeerText.printable(text), PeerText.quoted(text)}) {
      assertThat(out.codePoints().filter(PeerTextTest::forbidden).toArray()).as(out).isEmpty();
    }
  }

  @Property
  void everyCodePointIsCheckedAndTheResultIsBounded(@ForAll @StringLength(max = 3000) String text) {
    String out = PeerText.printable(text);
    assertThat(out.codePoints().filter(PeerTextTest::forbidden).toArray()).isEmpty();
    assertThat(out.length()).isLessThanOrEqualTo(PeerText.MAX_LENGTH);
    assertThat(PeerText.quoted(text).length()).isLessThanOrEqualTo(PeerText.MAX_LENGTH + 2);
  }

  @Property
  void printableAsciiPassesUnchanged(@ForAll @CharRange(from = ' ', to = '~') @StringLength(max = 1024) String text) {
    assertThat(PeerText.printable(text)).isEqualTo(text);
  }

  @Property
  void escapingTwiceChangesNothingMore(@ForAll("hostile") String text) {
    String once = PeerText.printable(text);
    assertThat(PeerText.printable(once)).isEqualTo(once);
  }

  @Test
  void escapesAreVisibleAndOtherScriptsPass() {
    assertThat(PeerText.printable("\u001b]52;c;aGk=\u0007")).isEqualTo("\\x1b]52;c;aGk=\\x07");
    assertThat(PeerText.printable("\u009b31m red")).isEqualTo("\\x9b31m red");
    assertThat(PeerText.printable("photo\u202egnp.exe")).isEqualTo("photo\\u202egnp.exe");
    assertThat(PeerText.printable("line\nforged")).isEqualTo("line\\x0aforged");
    assertThat(PeerText.printable("Grüße 日本 \ud83d\ude00")).isEqualTo("Grüße 日本 \ud83d\ude00");
    assertThat(PeerText.printable(null)).isEqualTo("null");
  }

  @Test
  void quotedEscapesItsQuotesAndBackslashes() {
    assertThat(PeerText.quoted("a\"b\\c\u009b")).isEqualTo("\"a\\\"b\\\\c\\x9b\"");
    assertThat(PeerText.printable("a\"b\\c")).isEqualTo("a\"b\\c");
  }

  @Test
  void longTextIsCutAtTheBoundAndSaysSo() {
    assertThat(PeerText.printable("x".repeat(PeerText.MAX_LENGTH))).isEqualTo("x".repeat(PeerText.MAX_LENGTH));
    String cut = PeerText.printable("x".repeat(PeerText.MAX_LENGTH + 1));
    assertThat(cut).hasSize(PeerText.MAX_LENGTH).endsWith("x…");
    // an escape is never split by the cut
    String escapes = PeerText.printable("\u009b".repeat(PeerText.MAX_LENGTH));
    assertThat(escapes).hasSizeLessThanOrEqualTo(PeerText.MAX_LENGTH).endsWith("\\x9b…");
    // nor a surrogate pair
    String emoji = PeerText.printable("\ud83d\ude00".repeat(PeerText.MAX_LENGTH));
    assertThat(emoji).endsWith("\ud83d\ude00…");
  }

  @Test
  void controlsAreTheIsoOnes() {
    assertThat(PeerText.hasControl("a\u009bb")).isTrue();
    assertThat(PeerText.hasControl("a\u007fb")).isTrue();
    assertThat(PeerText.hasControl("a\u00a0b\u202e")).isFalse();
  }
}
