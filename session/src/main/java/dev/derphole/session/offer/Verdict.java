package dev.derphole.session.offer;

import dev.derphole.session.SessionException;
import dev.derphole.session.text.PeerText;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The receiver's answer, sent twice: after the header (accept, or refuse with a reason such as
 * "a.jpg already exists") and after the body (ok, or failed with a reason such as "no space left").
 *
 * <pre>
 *   u8 code (0 = yes, 1 = no) ‖ u16 BE length (≤ 1024) ‖ reason, UTF-8 (empty for yes)
 * </pre>
 *
 * A verdict read from the other side carries its reason escaped ({@link PeerText}), ready to print.
 */
public record Verdict(boolean yes, String reason) {
  static final int MAX_REASON = 1024;

  public static final Verdict YES = new Verdict(true, "");

  public static Verdict no(String reason) {
    return new Verdict(false, reason);
  }

  public byte[] encode() {
    byte[] text = reason.getBytes(StandardCharsets.UTF_8);
    if (text.length > MAX_REASON) {
      text = java.util.Arrays.copyOf(text, MAX_REASON);
    }
    return ByteBuffer.allocate(3 + text.length).put((byte) (yes ? 0 : 1)).putShort((short) text.length).put(text).array();
  }

  /** Reads one verdict; {@code when} names the moment for the error if the stream ends instead. */
  public static Verdict readFrom(InputStream in, String when) throws SessionException, IOException {
    DataInputStream data = new DataInputStream(in);
    int code;
    int length;
    try {
      code = data.readUnsignedByte();
      length = data.readUnsignedShort();
    } catch (EOFException e) {
      throw new SessionException("the receiver closed the transfer " + when + " without an answer");
    }
    if (code > 1 || length > MAX_REASON) {
      throw new SessionException("the other side sent a malformed answer");
    }
    byte[] text = new byte[length];
    data.readFully(text);
    return new Verdict(code == 0, PeerText.printable(new String(text, StandardCharsets.UTF_8)));
  }
}
