package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.zxing.BinaryBitmap;
import com.google.zxing.DecodeHintType;
import com.google.zxing.LuminanceSource;
import com.google.zxing.RGBLuminanceSource;
import com.google.zxing.common.HybridBinarizer;
import com.google.zxing.qrcode.QRCodeReader;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The half-block drawing decodes, with ZXing's own reader, to the text it was drawn for: the
 * characters are turned back into modules (two per cell, dark where the block is), the modules
 * into pixels, and the reader finds the code in them (it needs the quiet zone to).
 */
class QrTest {
  /** Pixels per module in the picture the reader gets. */
  static final int SCALE = 4;

  @ParameterizedTest
  @ValueSource(ints = {1, 20, 120, 230, 400})
  void theDrawingDecodesToTheText(int length) throws Exception {
    String text = "derphole pipe " + "dhoBx-_9".repeat(60).substring(0, length);
    assertThat(decode(Qr.render(text, true))).isEqualTo(text);
    assertThat(decode(Qr.render(text, false))).isEqualTo(text);
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
    boolean[][] m = modules(String.join("\n", rows));
    int size = m.length;
    for (int i = 0; i < size; i++) {
      for (int k = 0; k < Qr.QUIET_ZONE; k++) {
        assertThat(m[k][i] || m[i][k] || m[size - 1 - k][i] || m[i][size - 1 - k]).as("module %d,%d", k, i).isFalse();
      }
    }
    assertThat(m[Qr.QUIET_ZONE][Qr.QUIET_ZONE]).as("the finder pattern's corner").isTrue();
  }

  /** Modules from the drawing: ▀ ▄ █ and space, two rows per line; colour escapes are skipped. */
  static boolean[][] modules(String drawing) {
    List<String> lines = drawing.replaceAll("\u001b\\[[0-9;]*m", "").lines().filter(l -> !l.isEmpty()).toList();
    int width = lines.get(0).length();
    boolean[][] m = new boolean[width][width];
    for (int row = 0; row < lines.size(); row++) {
      String l = lines.get(row);
      for (int x = 0; x < l.length(); x++) {
        char c = l.charAt(x);
        boolean top = c == '█' || c == '▀';
        boolean bottom = c == '█' || c == '▄';
        if (2 * row < width) {
          m[2 * row][x] = top;
        }
        if (2 * row + 1 < width) {
          m[2 * row + 1][x] = bottom;
        }
      }
    }
    return m;
  }

  /** Decodes a half-block drawing with ZXing's QR reader. */
  static String decode(String drawing) throws Exception {
    boolean[][] m = modules(drawing);
    int n = m.length * SCALE;
    int[] pixels = new int[n * n];
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        pixels[y * n + x] = m[y / SCALE][x / SCALE] ? 0xFF000000 : 0xFFFFFFFF;
      }
    }
    LuminanceSource source = new RGBLuminanceSource(n, n, pixels);
    return new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(source)),
        Map.of(DecodeHintType.PURE_BARCODE, Boolean.FALSE)).getText();
  }
}
