package dev.derphole.session.offer;

import dev.derphole.session.SessionException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.function.LongConsumer;

/** The sending side of one offer (see the package documentation for the exchange). */
public final class OfferSender {
  /** Writes exactly the header's {@code size} bytes. */
  @FunctionalInterface
  public interface Body {
    void writeTo(OutputStream out) throws SessionException, IOException;
  }

  static final int BUFFER = 256 << 10;

  private OfferSender() {}

  /**
   * Offers {@code header}, sends the body once the receiver accepts, and returns once the receiver
   * has confirmed that it holds everything, verified; returns that confirmation (its reason may
   * say where the result went). {@code progress} sees the body bytes sent so far.
   *
   * @throws SessionException when the receiver refuses or fails (with its reason) or the body is
   *     not the announced size
   */
  public static Verdict send(OfferHeader header, Body body, InputStream fromReceiver, OutputStream toReceiver,
                          LongConsumer progress) throws SessionException, IOException {
    return send(header, body, fromReceiver, toReceiver, progress, (start, held, size) -> { });
  }

  /**
   * {@link #send(OfferHeader, Body, InputStream, OutputStream, LongConsumer)}, resuming when the
   * header asks to and the receiver holds part of the body ({@link ResumeSender}); {@code resumed}
   * hears where the body started.
   */
  public static Verdict send(OfferHeader header, Body body, InputStream fromReceiver, OutputStream toReceiver,
                             LongConsumer progress, ResumeSender.Listener resumed) throws SessionException, IOException {
    return send(header, body, fromReceiver, toReceiver, progress, resumed, out -> out);
  }

  /**
   * As above; what follows the receiver's first answer (the resume start, the body, the checksum)
   * goes to {@code afterAnswer.apply(toReceiver)} instead, which may be another path to the
   * receiver (direct lanes, issue #34), closed after the checksum.
   */
  public static Verdict send(OfferHeader header, Body body, InputStream fromReceiver, OutputStream toReceiver,
                             LongConsumer progress, ResumeSender.Listener resumed,
                             java.util.function.UnaryOperator<OutputStream> afterAnswer) throws SessionException, IOException {
    toReceiver.write(header.encode());
    toReceiver.flush();
    java.io.PushbackInputStream answers = new java.io.PushbackInputStream(fromReceiver, 1);
    fromReceiver = answers;
    ResumeWire.Hold hold = header.resume() != null ? ResumeSender.readHold(answers, header.size()) : null;
    if (hold == null) {
      Verdict accept = Verdict.readFrom(fromReceiver, "after the offer");
      if (!accept.yes()) {
        throw new PeerVerdictException("the receiver declined: " + accept.reason());
      }
    }
    toReceiver = afterAnswer.apply(toReceiver);
    BufferedOutputStream buffered = new BufferedOutputStream(toReceiver, BUFFER);
    ProgressOutputStream counted = new ProgressOutputStream(buffered, progress);
    long sent;
    MessageDigest sha;
    if (hold != null) {
      ResumeSender resume = new ResumeSender(hold, header.size(), buffered, counted, resumed);
      sha = resume.send(body);
      sent = resume.sent();
    } else {
      sha = Sha256.create();
      body.writeTo(new DigestOutputStream(counted, sha));
      sent = counted.count;
    }
    if (sent != header.size()) {
      throw new SessionException("sent " + sent + " bytes, but announced " + header.size()
          + " (did the input change while being sent?)");
    }
    buffered.write(sha.digest());
    buffered.flush();
    toReceiver.close();
    Verdict done = Verdict.readFrom(fromReceiver, "after the transfer");
    if (!done.yes()) {
      throw new PeerVerdictException("the receiver failed: " + done.reason());
    }
    return done;
  }

  /** Counts the body bytes and reports each new total. */
  static final class ProgressOutputStream extends java.io.FilterOutputStream {
    private final LongConsumer progress;
    long count;
    /** Added to the count when reporting progress: body bytes the receiver held already. */
    long offset;

    ProgressOutputStream(OutputStream out, LongConsumer progress) {
      super(out);
      this.progress = progress;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
      progress.accept(offset + count);
    }
  }
}
