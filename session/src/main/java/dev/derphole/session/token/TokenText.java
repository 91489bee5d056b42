package dev.derphole.session.token;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The frame every token is printed in, derphole's ({@code dhoB…}) and derptun's ({@code dts1_…}):
 *
 * <pre>
 *   binary = fields ‖ CRC-32C of every byte before it (4, big-endian)
 *   text   = prefix ‖ base64url(binary), no padding; whitespace anywhere is ignored on reading
 * </pre>
 *
 * One binary form has one text: a text whose last character has stray low bits, or that has one
 * character dangling, decodes but is not {@link Read#canonical() canonical}, and readers call it
 * damaged. The prefix and what the fields mean belong to the token kind; what a failure is called
 * (not a token, corrupted) too, since each kind words it for its own users.
 */
public final class TokenText {
  /** Length of the CRC-32C trailer. */
  public static final int CHECKSUM_LENGTH = 4;

  /** More text than any token can be is not looked at further. */
  public static final int MAX_TEXT_LENGTH = 4096;

  /**
   * The bytes of a token text.
   *
   * @param bytes the decoded binary form, checksum included
   * @param canonical whether {@link #print} of these bytes gives the text back (no stray bits, no
   *     dangling character)
   */
  public record Read(byte[] bytes, boolean canonical) {}

  private TokenText() {}

  /** {@code fields} ‖ their CRC-32C. */
  public static byte[] seal(byte[] fields) {
    byte[] out = Arrays.copyOf(fields, fields.length + CHECKSUM_LENGTH);
    ByteBuffer.wrap(out, fields.length, CHECKSUM_LENGTH).putInt(crc(out, fields.length));
    return out;
  }

  /** Whether the last four bytes are the CRC-32C of the rest; false when too short to hold one. */
  public static boolean checksumHolds(byte[] binary) {
    int end = binary.length - CHECKSUM_LENGTH;
    return end >= 0 && crc(binary, end) == ByteBuffer.wrap(binary, end, CHECKSUM_LENGTH).getInt();
  }

  /** {@code prefix} ‖ base64url of {@code binary}, no padding. */
  public static String print(String prefix, byte[] binary) {
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(binary);
  }

  /**
   * {@code text} without whitespace (line breaks, spaces, no-break spaces), or empty when more than
   * {@link #MAX_TEXT_LENGTH} characters are left.
   */
  public static Optional<String> compact(String text) {
    StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_TEXT_LENGTH));
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
        continue;
      }
      if (out.length() == MAX_TEXT_LENGTH) {
        return Optional.empty();
      }
      out.append(c);
    }
    return Optional.of(out.toString());
  }

  /**
   * The bytes of compact base64url text (trailing {@code =} padding allowed), or empty when any
   * other character is in it. A dangling last character is damage (a token cut short), not a sign
   * of something else: what is whole is decoded, and the text is not canonical.
   */
  public static Optional<Read> read(String base64) {
    int end = base64.length();
    while (end > 0 && base64.charAt(end - 1) == '=') {
      end--;
    }
    String body = base64.substring(0, end);
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      boolean base64url = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_';
      if (!base64url) {
        return Optional.empty();
      }
    }
    int whole = body.length() % 4 == 1 ? body.length() - 1 : body.length();
    byte[] bytes = Base64.getUrlDecoder().decode(body.substring(0, whole));
    return Optional.of(new Read(bytes, print("", bytes).equals(body)));
  }

  private static int crc(byte[] bytes, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, length);
    return (int) crc.getValue();
  }
}
