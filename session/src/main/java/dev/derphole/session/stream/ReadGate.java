package dev.derphole.session.stream;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reading a channel with auto-read off, at the pace of whoever takes what it read: read while
 * fewer than {@code high} bytes wait to be taken; past that, pause until the backlog is down to
 * {@code low}, then read again. QUIC's flow control (or TCP's window) then slows the far sender,
 * and memory stays near {@code high} however long the stream is.
 *
 * <p>The channel's event loop calls {@link #added} and {@link #readOrPause}; the consumer (a
 * writer thread, another channel's write completions) calls {@link #taken} from any thread. Each
 * pause is ended exactly once: a pause that races with the consumer's last take is seen by one of
 * the two, never by neither (no stall) and never by both (no second read).
 */
public final class ReadGate {
  private final long high;
  private final long low;
  private final Runnable read;
  private final AtomicLong backlog = new AtomicLong();
  private final AtomicBoolean paused = new AtomicBoolean();

  /**
   * @param high pause reading once this many bytes wait
   * @param low read again once no more than this many wait; below {@code high}
   * @param read asks the channel for one more read (e.g. {@code ctx::read}); called from either side
   */
  public ReadGate(long high, long low, Runnable read) {
    if (low < 0 || low >= high) {
      throw new IllegalArgumentException("read gate needs 0 <= low < high, got low " + low + ", high " + high);
    }
    this.high = high;
    this.low = low;
    this.read = read;
  }

  /** {@code n} bytes were read and wait to be taken. */
  public void added(long n) {
    backlog.addAndGet(n);
  }

  /** After a read: reads once more if the backlog allows, else pauses until {@link #taken} resumes. */
  public void readOrPause() {
    if (backlog.get() < high) {
      read.run();
      return;
    }
    paused.set(true);
    // The consumer may have drained between the check and the flag, and seen no pause to end.
    if (backlog.get() <= low && paused.compareAndSet(true, false)) {
      read.run();
    }
  }

  /** {@code n} bytes were taken; ends a pause once the backlog is down to the low mark. */
  public void taken(long n) {
    if (backlog.addAndGet(-n) <= low && paused.compareAndSet(true, false)) {
      read.run();
    }
  }

  /** Bytes read and not yet taken. */
  public long backlog() {
    return backlog.get();
  }

  /** Whether reading waits for the backlog to drain. */
  public boolean paused() {
    return paused.get();
  }
}
