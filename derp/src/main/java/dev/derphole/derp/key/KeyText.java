package dev.derphole.derp.key;

import java.util.HexFormat;
import java.util.Objects;

/**
 * The text forms of 32-byte keys: a type prefix such as {@code nodekey:} followed by 64 hex
 * digits (either case on input, lowercase on output), or the bare "untyped" hex.
 */
final class KeyText {
  static final HexFormat HEX = HexFormat.of();

  private static final int HEX_LENGTH = 2 * NodePublicKey.LENGTH;
  private static final int QUOTE_LIMIT = 80;

  private KeyText() {}

  /**
   * Parses {@code prefix + 64 hex digits}.
   *
   * @param what names the key in error messages, e.g. "node public key"
   * @param secret when true, error messages never quote the input
   */
  static byte[] parseTyped(String text, String prefix, String what, boolean secret) {
    Objects.requireNonNull(text, what);
    if (!text.startsWith(prefix)) {
      String got = secret ? "" : ", got " + quote(text);
      throw new IllegalArgumentException(
          what + " must start with \"" + prefix + "\" followed by 64 hex digits" + got);
    }
    return parseHex(text.substring(prefix.length()), what + " after \"" + prefix + "\"", secret);
  }

  /** Parses exactly 64 hex digits with no prefix. */
  static byte[] parseHex(String hex, String what, boolean secret) {
    Objects.requireNonNull(hex, what);
    if (hex.length() != HEX_LENGTH) {
      throw new IllegalArgumentException(
          what + " must be 64 hex digits, got " + hex.length() + " characters");
    }
    for (int i = 0; i < hex.length(); i++) {
      char c = hex.charAt(i);
      if (!HexFormat.isHexDigit(c)) {
        String shown = secret ? "" : " " + quote(String.valueOf(c));
        throw new IllegalArgumentException(
            what + " has a non-hex character" + shown + " at index " + i);
      }
    }
    return HEX.parseHex(hex);
  }

  private static String quote(String s) {
    String cut = s.length() > QUOTE_LIMIT ? s.substring(0, QUOTE_LIMIT) + "…" : s;
    return "\"" + cut + "\"";
  }
}
