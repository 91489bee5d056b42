package dev.derphole.session.text;

/**
 * Makes text from the other side safe to print: on a terminal, in a log, in a one-line error.
 *
 * <p>A peer chooses file names, refusal and abort reasons, QUIC close reasons and SSH key comments.
 * Printed as they are, their control characters would reach the terminal: ESC or the single-byte
 * CSI (U+009B) start sequences that retitle the window, write the clipboard (OSC 52), move the
 * cursor or clear the screen, and a line break forges a line of our own output. The Unicode bidi
 * controls reorder what the reader sees ({@code gnp.exe} shown as {@code exe.png}).
 *
 * <p>So every character of these classes is written as a visible escape: {@code \x1b} for one up
 * to U+00FF, <code>&#92;u202e</code> for one above:
 *
 * <ul>
 *   <li>ISO controls: C0 (U+0000–U+001F), DEL (U+007F), C1 (U+0080–U+009F);
 *   <li>bidi controls: U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069;
 *   <li>line and paragraph separators (U+2028, U+2029) and unpaired surrogates.
 * </ul>
 *
 * Everything else, other scripts and emoji included, passes unchanged. The result is at most
 * {@link #MAX_LENGTH} characters (a longer text is cut and ends in {@code …}); it contains no
 * character of those classes, so escaping it again changes nothing.
 */
public final class PeerText {
  /** Longest result, in UTF-16 characters: a line, not a screenful. */
  public static final int MAX_LENGTH = 1024;

  private static final String CUT = "…";

  private PeerText() {}

  /** {@code text} safe to print (null prints as {@code null}). */
  public static String printable(String text) {
    return escape(String.valueOf(text), false);
  }

  /**
   * {@code text} safe to print, in double quotes, with {@code "} and {@code \} escaped too so that
   * where the name ends is unambiguous: {@code "a\"b"}.
   */
  public static String quoted(String text) {
    return "\"" + escape(String.valueOf(text), true) + "\"";
  }

  /** Whether {@code codePoint} is an ISO control character: C0, DEL or C1. */
  public static boolean isControl(int codePoint) {
    return Character.isISOControl(codePoint);
  }

  /** Whether {@code text} has an ISO control character (C0, DEL or C1) in it. */
  public static boolean hasControl(String text) {
    return text.codePoints().anyMatch(PeerText::isControl);
  }

  /** Whether {@link #printable} writes {@code codePoint} as an escape. */
  private static boolean mustEscape(int codePoint) {
    return isControl(codePoint) || isBidiControl(codePoint) || codePoint == 0x2028 || codePoint == 0x2029
        || Character.getType(codePoint) == Character.SURROGATE;
  }

  private static boolean isBidiControl(int c) {
    return c == 0x061C || c == 0x200E || c == 0x200F || c >= 0x202A && c <= 0x202E || c >= 0x2066 && c <= 0x2069;
  }

  private static String escape(String text, boolean quoted) {
    StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_LENGTH) + 8);
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      i += Character.charCount(c);
      String piece = mustEscape(c) ? (c <= 0xFF ? String.format("\\x%02x", c) : String.format("\\u%04x", c))
          : quoted && (c == '"' || c == '\\') ? "\\" + (char) c
          : new String(Character.toChars(c));
      boolean last = i >= text.length();
      if (out.length() + piece.length() > (last ? MAX_LENGTH : MAX_LENGTH - CUT.length())) {
        return out.append(CUT).toString();
      }
      out.append(piece);
    }
    return out.toString();
  }
}
