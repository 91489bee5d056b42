package dev.derphole.session.tunnel;

import dev.derphole.session.tunnel.TunnelTokenException.Reason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.CRC32C;

/**
 * The text frame shared by every derptun token kind:
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
  static final int CHECKSUM_LENGTH = 4;
  /** More text than any token can be is not looked at further. */
  static final int MAX_TEXT_LENGTH = 4096;

  /** A decoded frame: its kind and the body between the header and the checksum. */
  record Frame(TokenKind kind, byte[] body) {}

  private TunnelTokenText() {}

  static String encode(TokenKind kind, byte[] body) {
    ByteBuffer b = ByteBuffer.allocate(2 + body.length + CHECKSUM_LENGTH);
    b.put((byte) kind.letter()).put((byte) VERSION).put(body);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return kind.prefix() + Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  static Frame decode(String text) throws TunnelTokenException {
    String compact = text == null ? "" : text.replaceAll("[\\s\\u00A0\\u2007\\u202F]+", "");
    if (compact.length() > MAX_TEXT_LENGTH || compact.length() < 5 || !compact.startsWith("dt")
        || compact.charAt(4) != '_' || !Character.isDigit(compact.charAt(3))) {
      throw new TunnelTokenException(Reason.NOT_A_TOKEN, compact.startsWith("dhoB")
          ? "that is a derphole session token, not a derptun token"
          : "that is not a derptun token (they start with dts1_, dtc1_ or dtt1_)");
    }
    TokenKind textKind = TokenKind.ofLetter(compact.charAt(2)).orElseThrow(() -> new TunnelTokenException(
        Reason.NOT_A_TOKEN, "that is not a derptun token (they start with dts1_, dtc1_ or dtt1_)"));
    byte[] bytes;
    try {
      String body = compact.substring(5);
      while (body.endsWith("=")) {
        body = body.substring(0, body.length() - 1);
      }
      int whole = body.length() % 4 == 1 ? body.length() - 1 : body.length();
      bytes = Base64.getUrlDecoder().decode(body.substring(0, whole));
    } catch (IllegalArgumentException e) {
      throw corrupted();
    }
    if (bytes.length < 2 + CHECKSUM_LENGTH) {
      throw corrupted();
    }
    int end = bytes.length - CHECKSUM_LENGTH;
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, end);
    if ((int) crc.getValue() != ByteBuffer.wrap(bytes, end, CHECKSUM_LENGTH).getInt()) {
      throw corrupted();
    }
    int version = bytes[1] & 0xFF;
    if (version != VERSION) {
      throw new TunnelTokenException(Reason.UNSUPPORTED_VERSION,
          "this derptun token is version " + version + "; this derptun reads version " + VERSION);
    }
    if (bytes[0] != (byte) textKind.letter() || compact.charAt(3) != (char) ('0' + VERSION)) {
      throw corrupted();
    }
    Frame frame = new Frame(textKind, Arrays.copyOfRange(bytes, 2, end));
    // One spelling only: no stray low bits in the last character, no trailing bytes.
    if (!encode(frame.kind(), frame.body()).equals(stripPadding(compact))) {
      throw corrupted();
    }
    return frame;
  }

  private static String stripPadding(String s) {
    int n = s.length();
    while (n > 0 && s.charAt(n - 1) == '=') {
      n--;
    }
    return s.substring(0, n);
  }

  static TunnelTokenException corrupted() {
    return new TunnelTokenException(Reason.CORRUPTED, "the derptun token is corrupted (checksum mismatch); copy it again");
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
