package dev.derphole.session.offer;

import dev.derphole.session.SessionException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * The receiving side of one offer, step by step, so that the command decides between the steps
 * (where the body goes, whether it may): {@link #readHeader}, then {@link #refuse} or
 * {@link #accept}, {@link #receiveBody}, and, once the result is safely in place, {@link #confirm}.
 * When anything fails after the header, {@link #fail} tells the sender why.
 */
public final class OfferReceiver {
  /** Consumes a body; it may stop early (the rest is read and checked all the same). */
  @FunctionalInterface
  public interface Sink {
    void consume(InputStream body) throws SessionException, IOException;
  }

  private final InputStream fromSender;
  private final OutputStream toSender;
  private OfferHeader header;

  public OfferReceiver(InputStream fromSender, OutputStream toSender) {
    this.fromSender = new BufferedInputStream(fromSender, 1 << 16);
    this.toSender = toSender;
  }

  /**
   * Reads the header and checks that the sender's verification code is ours: a mismatch means the
   * two sides do not hold the same token.
   */
  public OfferHeader readHeader(String expectedVerify) throws SessionException, IOException {
    header = OfferHeader.readFrom(fromSender);
    if (!header.verify().equals(expectedVerify)) {
      throw new SessionException("verification mismatch: the sender shows " + OfferHeader.quote(header.verify())
          + ", this side " + OfferHeader.quote(expectedVerify));
    }
    return header;
  }

  /**
   * Tells the sender no, with {@code toSender} as the reason; returns the failure for this side's
   * user, in {@code toUser}'s words, for the caller to throw.
   */
  public OfferRefusedException refuse(String toSender, String toUser) throws IOException {
    answer(Verdict.no(toSender));
    return new OfferRefusedException(toUser);
  }

  public void accept() throws IOException {
    answer(Verdict.YES);
  }

  /**
   * Passes exactly {@code size} body bytes to {@code sink}, then reads the sender's SHA-256 and
   * compares it with the bytes that arrived. {@code progress} sees the body bytes received so far.
   */
  public void receiveBody(Sink sink, LongConsumer progress) throws SessionException, IOException {
    receiveBody(0, Sha256.create(), sink, progress);
  }

  /**
   * Accepts with what this side holds ({@link ResumeWire}, only for a header that asked to resume)
   * and returns where the sender starts: 0 or {@code hold.held()}.
   */
  long acceptResume(ResumeWire.Hold hold) throws SessionException, IOException {
    toSender.write(hold.encode());
    toSender.flush();
    return ResumeWire.readStart(fromSender, hold.held());
  }

  /**
   * {@link #receiveBody(Sink, LongConsumer)} from {@code start}: the sink gets the body's remaining
   * bytes, and {@code sha} has taken in the first {@code start} already.
   */
  void receiveBody(long start, MessageDigest sha, Sink sink, LongConsumer progress) throws SessionException, IOException {
    Bounded bounded = new Bounded(fromSender, header.size() - start, n -> progress.accept(start + n));
    DigestInputStream body = new DigestInputStream(bounded, sha);
    sink.consume(body);
    body.transferTo(OutputStream.nullOutputStream()); // padding after a tar's end, or what a sink left
    byte[] expected = new byte[Sha256.LENGTH];
    try {
      new DataInputStream(fromSender).readFully(expected);
    } catch (EOFException e) {
      throw new SessionException("the transfer ended before the sender's checksum arrived");
    }
    if (!Arrays.equals(sha.digest(), expected)) {
      throw new SessionException("the received data does not match the sender's SHA-256 checksum; nothing was kept");
    }
  }

  /** Everything is in place: the sender may exit 0. {@code note} (may be empty) is shown to the sender. */
  public void confirm(String note) throws IOException {
    answer(new Verdict(true, note));
    toSender.close();
  }

  /** Tells the sender why this side gives up; best effort, as the stream may be gone already. */
  public void fail(String reason) {
    try {
      answer(Verdict.no(reason));
      toSender.close();
    } catch (IOException ignored) {
      // the connection is gone: the session's close reason tells the sender instead
    }
  }

  private void answer(Verdict v) throws IOException {
    toSender.write(v.encode());
    toSender.flush();
  }

  /** At most {@code limit} bytes; ending before that is an error naming how far it got. */
  static final class Bounded extends InputStream {
    private final InputStream in;
    private final long limit;
    private final LongConsumer progress;
    private long read;

    Bounded(InputStream in, long limit, LongConsumer progress) {
      this.in = in;
      this.limit = limit;
      this.progress = progress;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (read == limit) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, limit - read));
      if (n < 0) {
        throw new EOFException("the transfer ended early: received " + read + " of " + limit + " bytes");
      }
      read += n;
      progress.accept(read);
      return n;
    }
  }
}
