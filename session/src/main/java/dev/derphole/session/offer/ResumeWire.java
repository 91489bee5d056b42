package dev.derphole.session.offer;

import dev.derphole.session.SessionException;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * The two frames of a resumed offer, exchanged only when the header carried {@code resume}
 * (so a peer without resume never sees them).
 *
 * <pre>
 *   receiver → sender, instead of the "yes" verdict:
 *     u8 2 ‖ u64 BE held ‖ SHA-256 of the body's first `held` bytes (32; zeros when held = 0)
 *   sender → receiver, before the body:
 *     u64 BE start  (= held: the body continues from there; = 0: from the beginning)
 * </pre>
 *
 * {@code held} is 0, a multiple of {@link Partial#CHUNK} or the whole size. An old receiver answers
 * a resume request with the ordinary verdict (code 0 or 1), and the sender then sends everything.
 */
public final class ResumeWire {
  /** The verdict code that means "yes, and here is what I hold". */
  static final int HOLD = 2;
  static final int HOLD_LENGTH = 1 + 8 + Sha256.LENGTH;

  /** What the receiver holds. */
  public record Hold(long held, byte[] sha256) {
    public Hold {
      if (held < 0 || sha256.length != Sha256.LENGTH) {
        throw new IllegalArgumentException("bad hold: " + held);
      }
    }

    byte[] encode() {
      return ByteBuffer.allocate(HOLD_LENGTH).put((byte) HOLD).putLong(held).put(sha256).array();
    }

    /** Reads the rest of a hold frame whose code byte was read already; checks it against the offer. */
    static Hold readAfterCode(InputStream in, long size) throws SessionException, IOException {
      DataInputStream data = new DataInputStream(in);
      long held;
      byte[] sha = new byte[Sha256.LENGTH];
      try {
        held = data.readLong();
        data.readFully(sha);
      } catch (EOFException e) {
        throw new SessionException("the receiver closed the transfer in the middle of its resume answer");
      }
      if (held < 0 || held > size || (held % Partial.CHUNK != 0 && held != size)) {
        throw new SessionException("the receiver sent a malformed resume answer (it holds " + held + " of " + size + " bytes)");
      }
      return new Hold(held, sha);
    }
  }

  private ResumeWire() {}

  static byte[] encodeStart(long start) {
    return ByteBuffer.allocate(8).putLong(start).array();
  }

  /** The sender's start: 0 or {@code held}; anything else is refused. */
  static long readStart(InputStream in, long held) throws SessionException, IOException {
    long start;
    try {
      start = new DataInputStream(in).readLong();
    } catch (EOFException e) {
      throw new SessionException("the sender closed the transfer before saying where it resumes");
    }
    if (start != 0 && start != held) {
      throw new SessionException("the sender wants to resume at byte " + start + ", but this side holds " + held);
    }
    return start;
  }
}
