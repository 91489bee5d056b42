package dev.derphole.session.tunnel;

import dev.derphole.session.token.TokenException;
import dev.derphole.session.token.TokenException.Reason;
import dev.derphole.session.token.TokenText;
import java.util.Arrays;

/**
 * The header every derptun token kind puts on the {@link TokenText token frame}:
 *
 * <pre>
 *   text   = "dt" kind-letter version-digit "_" base64url(binary), no padding; whitespace ignored
 *   binary = kind-letter (1) ‖ version (1) ‖ body ‖ CRC-32C of every byte before it (4)
 * </pre>
 *
 * The letter and version appear twice (text and binary) so that a prefix edited by hand, or a
 * body pasted behind the wrong prefix, is caught as damage. Decoding order: prefix
 * ({@code NOT_A_TOKEN}), base64url and checksum ({@code CORRUPTED}), version
 * ({@code UNSUPPORTED_VERSION}), prefix ≠ binary ({@code CORRUPTED}). Messages never quote the
 * text.
 */
final class TunnelTokenText {
  /** The format version this build writes and reads. */
  static final int VERSION = 1;
  private static final int HEADER_LENGTH = 2;

  /** A decoded frame: its kind and the body between the header and the checksum. */
  record Frame(TokenKind kind, byte[] body) {}

  private TunnelTokenText() {}

  static String encode(TokenKind kind, byte[] body) {
    byte[] fields = new byte[HEADER_LENGTH + body.length];
    fields[0] = (byte) kind.letter();
    fields[1] = (byte) VERSION;
    System.arraycopy(body, 0, fields, HEADER_LENGTH, body.length);
    return TokenText.print(kind.prefix(), TokenText.seal(fields));
  }

  static Frame decode(String text) throws TokenException {
    String compact = TokenText.compact(text == null ? "" : text).orElse("");
    if (compact.length() < 5 || !compact.startsWith("dt")
        || compact.charAt(4) != '_' || !Character.isDigit(compact.charAt(3))) {
      throw new TokenException(Reason.NOT_A_TOKEN, compact.startsWith("dhoB")
          ? "that is a derphole session token, not a derptun token"
          : "that is not a derptun token (they start with dts1_, dtc1_ or dtt1_)");
    }
    TokenKind textKind = TokenKind.ofLetter(compact.charAt(2)).orElseThrow(() -> new TokenException(
        Reason.NOT_A_TOKEN, "that is not a derptun token (they start with dts1_, dtc1_ or dtt1_)"));
    TokenText.Read read = TokenText.read(compact.substring(5)).orElseThrow(TunnelTokenText::corrupted);
    byte[] bytes = read.bytes();
    if (bytes.length < HEADER_LENGTH + TokenText.CHECKSUM_LENGTH || !TokenText.checksumHolds(bytes)) {
      throw corrupted();
    }
    int version = bytes[1] & 0xFF;
    if (version != VERSION) {
      throw new TokenException(Reason.UNSUPPORTED_VERSION,
          "this derptun token is version " + version + "; this derptun reads version " + VERSION);
    }
    // One spelling only: the prefix the binary names, no stray low bits in the last character.
    if (bytes[0] != (byte) textKind.letter() || compact.charAt(3) != (char) ('0' + VERSION)
        || !read.canonical()) {
      throw corrupted();
    }
    return new Frame(textKind, Arrays.copyOfRange(bytes, HEADER_LENGTH, bytes.length - TokenText.CHECKSUM_LENGTH));
  }

  static TokenException corrupted() {
    return new TokenException(Reason.CORRUPTED, "the derptun token is corrupted (checksum mismatch); copy it again");
  }
}
