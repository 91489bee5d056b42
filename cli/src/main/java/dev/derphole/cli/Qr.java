package dev.derphole.cli;

import com.google.zxing.EncodeHintType;
import com.google.zxing.WriterException;
import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel;
import com.google.zxing.qrcode.encoder.ByteMatrix;
import com.google.zxing.qrcode.encoder.Encoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A QR code drawn with Unicode half blocks, for a phone to read off a terminal: each character
 * cell holds two modules, one above the other ({@code ▀} the top one dark, {@code ▄} the bottom
 * one, {@code █} both, a space neither), with the quiet zone of four light modules around the
 * code that a reader needs to find it. Each line sets its own colours, black on bright white, so
 * the code reads the same on a dark and on a light terminal; with {@code NO_COLOR} set it does
 * not, and the dark modules are drawn in the terminal's own colour (readable on a light one).
 */
final class Qr {
  /** Light modules around the code, as the QR specification asks. */
  static final int QUIET_ZONE = 4;
  /** Medium error correction (15 %): a 230-character command line fits in 69 columns. */
  static final ErrorCorrectionLevel LEVEL = ErrorCorrectionLevel.M;
  static final String BLACK_ON_WHITE = "\u001b[30;107m";
  static final String RESET = "\u001b[0m";

  private Qr() {}

  /** The code for {@code text} (UTF-8), one line per two rows of modules, each ending in a line break. */
  static String render(String text, boolean colour) {
    ByteMatrix m;
    try {
      m = Encoder.encode(text, LEVEL, Map.of(EncodeHintType.CHARACTER_SET, StandardCharsets.UTF_8.name()))
          .getMatrix();
    } catch (WriterException e) {
      throw new IllegalArgumentException("cannot draw a QR code of " + text.length() + " characters: " + e.getMessage(), e);
    }
    int size = m.getWidth() + 2 * QUIET_ZONE;
    StringBuilder out = new StringBuilder();
    for (int y = 0; y < size; y += 2) {
      if (colour) {
        out.append(BLACK_ON_WHITE);
      }
      for (int x = 0; x < size; x++) {
        boolean top = dark(m, x, y);
        boolean bottom = dark(m, x, y + 1);
        out.append(top ? (bottom ? '█' : '▀') : (bottom ? '▄' : ' '));
      }
      if (colour) {
        out.append(RESET);
      }
      out.append(System.lineSeparator());
    }
    return out.toString();
  }

  /** Whether the terminal may be given colours: not when {@code NO_COLOR} is set (no-color.org). */
  static boolean colourAllowed() {
    String noColor = System.getenv("NO_COLOR");
    return noColor == null || noColor.isEmpty();
  }

  /** The module at (x, y) of the code with its quiet zone; outside the code, light. */
  private static boolean dark(ByteMatrix m, int x, int y) {
    int cx = x - QUIET_ZONE;
    int cy = y - QUIET_ZONE;
    return cx >= 0 && cy >= 0 && cx < m.getWidth() && cy < m.getHeight() && m.get(cx, cy) == 1;
  }
}
