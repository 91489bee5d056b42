package dev.derphole.session.offer;

import dev.derphole.session.SessionException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;

/**
 * The sender's half of a resumed body ({@link ResumeWire}). The body is produced once, from the
 * start: its first {@code held} bytes are only hashed, and when the last of them is hashed the
 * sum is compared with the receiver's. Equal: the start is {@code held} and the rest goes out, the
 * running SHA-256 carrying on into the trailer. Not equal (the source differs from what the
 * receiver kept): the start is 0 and the body is produced again and sent whole. No byte of a
 * changed source is ever joined to a partial of the old one.
 */
public final class ResumeSender {
  /** Hears where the body started: {@code start} is {@code held} (resumed) or 0 (sent whole). */
  @FunctionalInterface
  public interface Listener {
    void resumed(long start, long held, long size);
  }

  /** Thrown through the body's writer when the prefix does not match; never leaves this class. */
  private static final class Restart extends RuntimeException {
    Restart() {
      super(null, null, false, false);
    }
  }

  private final ResumeWire.Hold hold;
  private final long size;
  private final OutputStream wire;
  private final OfferSender.ProgressOutputStream counted;
  private final Listener listener;
  private long skipped;

  ResumeSender(ResumeWire.Hold hold, long size, OutputStream wire, OfferSender.ProgressOutputStream counted, Listener listener) {
    this.hold = hold;
    this.size = size;
    this.wire = wire;
    this.counted = counted;
    this.listener = listener;
  }

  /** The receiver's hold, if it answered with one; else the answer is left to read as a verdict. */
  static ResumeWire.Hold readHold(PushbackInputStream in, long size) throws SessionException, IOException {
    int code = in.read();
    if (code == ResumeWire.HOLD) {
      return ResumeWire.Hold.readAfterCode(in, size);
    }
    if (code >= 0) {
      in.unread(code);
    }
    return null;
  }

  /** Body bytes that crossed, plus those the receiver held: the whole size when all went well. */
  long sent() {
    return skipped + counted.count;
  }

  /** Sends the start and the body from there; returns the SHA-256 of the whole body, for the trailer. */
  MessageDigest send(OfferSender.Body body) throws SessionException, IOException {
    if (hold.held() > 0) {
      Prefix prefix = new Prefix();
      try {
        body.writeTo(prefix);
        if (!prefix.decided) {
          prefix.decide(); // the body is no longer than what the receiver holds
        }
        return prefix.sha;
      } catch (Restart restart) {
        // fall through: the source differs from the receiver's partial
      }
    }
    start(0);
    MessageDigest sha = Sha256.create();
    body.writeTo(new DigestOutputStream(counted, sha));
    return sha;
  }

  private void start(long start) throws IOException {
    wire.write(ResumeWire.encodeStart(start));
    listener.resumed(start, hold.held(), size);
    counted.offset = start;
    skipped = start;
  }

  /** Hashes the first {@code held} bytes, decides, then forwards the rest. */
  private final class Prefix extends OutputStream {
    final MessageDigest sha = Sha256.create();
    long hashed;
    boolean decided;

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (!decided) {
        int take = (int) Math.min(len, hold.held() - hashed);
        sha.update(b, off, take);
        hashed += take;
        off += take;
        len -= take;
        if (hashed < hold.held()) {
          return;
        }
        decide();
      }
      if (len > 0) {
        sha.update(b, off, len);
        counted.write(b, off, len);
      }
    }

    void decide() throws IOException {
      decided = true;
      MessageDigest copy;
      try {
        copy = (MessageDigest) sha.clone();
      } catch (CloneNotSupportedException e) {
        throw new IllegalStateException(e);
      }
      if (hashed != hold.held() || !MessageDigest.isEqual(copy.digest(), hold.sha256())) {
        throw new Restart();
      }
      start(hold.held());
    }
  }
}
