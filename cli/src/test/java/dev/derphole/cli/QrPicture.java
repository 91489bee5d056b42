package dev.derphole.cli;

import com.google.zxing.BinaryBitmap;
import com.google.zxing.DecodeHintType;
import com.google.zxing.LuminanceSource;
import com.google.zxing.RGBLuminanceSource;
import com.google.zxing.common.HybridBinarizer;
import com.google.zxing.qrcode.QRCodeReader;
import java.util.List;
import java.util.Map;

/**
 * A half-block QR drawing as {@link Qr} prints it, read back: characters to modules, modules to
 * pixels, pixels through ZXing's QR reader. For the unit test of {@link Qr} and the end-to-end
 * tests that read a code off a process's stderr.
 */
public final class QrPicture {
  /** Pixels per module in the picture the reader gets. */
  static final int SCALE = 4;

  private QrPicture() {}

  /** Modules from the drawing: ▀ ▄ █ and space, two rows per line; colour escapes are skipped. */
  public static boolean[][] modules(String drawing) {
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
  public static String decode(String drawing) throws Exception {
    boolean[][] m = modules(drawing);
    int n = m.length * SCALE;
    int[] pixels = new int[n * n];
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        pixels[y * n + x] = m[y / SCALE][x / SCALE] ? 0xFF000000 : 0xFFFFFFFF;
      }
    }
    LuminanceSource source = new RGBLuminanceSource(n, n, pixels);
    // PURE_BARCODE: the reader takes the code as the picture's dark area inside its light margin
    // and reads every module, so a wrong module fails. Without it, ZXing's camera-image detector
    // misplaces the grid of about 2 % of these perfect version-11 pictures (6 of 300 random
    // tokens), which says nothing about the drawing: the same 300 read back whole this way.
    return new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(source)),
        Map.of(DecodeHintType.PURE_BARCODE, Boolean.TRUE)).getText();
  }

  /** The lines of {@code text} that are part of a drawing: block characters, or a coloured quiet zone. */
  public static String drawingIn(String text) {
    StringBuilder out = new StringBuilder();
    for (String l : text.lines().toList()) {
      String plain = l.replaceAll("\u001b\\[[0-9;]*m", "");
      if (!plain.isEmpty() && plain.chars().allMatch(c -> c == ' ' || c == '\u2580' || c == '\u2584' || c == '\u2588')) {
        out.append(l).append('\n');
      }
    }
    return out.toString();
  }

  /** Whether {@code drawing} is whole: as many lines as half its width, rounded up. */
  public static boolean complete(String drawing) {
    List<String> lines = drawing.replaceAll("\u001b\\[[0-9;]*m", "").lines().toList();
    return !lines.isEmpty() && lines.size() >= (lines.get(0).length() + 1) / 2;
  }
}
