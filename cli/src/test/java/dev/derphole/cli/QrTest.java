package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The half-block drawing decodes, with ZXing's own reader, to the text it was drawn for: the
 * characters are turned back into modules (two per cell, dark where the block is), the modules
 * into pixels, and the reader finds the code in them (it needs the quiet zone to).
 */
class QrTest {
  @ParameterizedTest
  @ValueSource(ints = {1, 20, 120, 230, 400})
  void theDrawingDecodesToTheText(int length) throws Exception {
    String text = "derphole pipe " + "dhoBx-_9".repeat(60).substring(0, length);
    assertThat(QrPicture.decode(Qr.render(text, true))).isEqualTo(text);
    assertThat(QrPicture.decode(Qr.render(text, false))).isEqualTo(text);
  }

  @Test
  void aWholeCommandLineFitsAnEightyColumnTerminal() {
    String line = "derphole receive " + "A".repeat(213);
    List<String> rows = Qr.render(line, false).lines().toList();
    assertThat(rows.get(0).length()).isLessThanOrEqualTo(80);
    assertThat(rows).allSatisfy(r -> assertThat(r).hasSameSizeAs(rows.get(0)));
  }

  @Test
  void everyLineIsBlackOnWhiteWhenColoursAreAllowedAndPlainOtherwise() {
    List<String> coloured = Qr.render("hello", true).lines().toList();
    assertThat(coloured).allSatisfy(r -> assertThat(r).startsWith(Qr.BLACK_ON_WHITE).endsWith(Qr.RESET));
    assertThat(Qr.render("hello", false)).doesNotContain("\u001b");
  }

  @Test
  void theQuietZoneIsFourLightModulesOnEverySide() {
    List<String> rows = Qr.render("hello", false).lines().toList();
    boolean[][] m = QrPicture.modules(String.join("\n", rows));
    int size = m.length;
    for (int i = 0; i < size; i++) {
      for (int k = 0; k < Qr.QUIET_ZONE; k++) {
        assertThat(m[k][i] || m[i][k] || m[size - 1 - k][i] || m[i][size - 1 - k]).as("module %d,%d", k, i).isFalse();
      }
    }
    assertThat(m[Qr.QUIET_ZONE][Qr.QUIET_ZONE]).as("the finder pattern's corner").isTrue();
  }
}
