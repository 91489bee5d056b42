package dev.derphole.session.stream;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bytes a writer thread has handed to a QUIC stream that QUIC has not taken yet, bounded: the
 * writer {@linkplain #acquire waits} before handing over more than {@link #LIMIT}, and each write's
 * completion {@linkplain #release gives} its bytes back.
 *
 * <p>Why not the channel's writability: a QUIC stream channel is writable exactly while QUIC's send
 * capacity for it is above zero (the free part of the congestion window, at most the flow-control
 * credit), it ignores write-buffer water marks, and it changes only once the event loop has run the
 * writes. A thread that waits for it leaves QUIC with nothing queued each time the window opens, so
 * the connection idles until the thread has woken up and read more; a thread that only checks it can
 * hand over hundreds of megabytes before it flips (340 MB in 2 s in {@code QuicCeilingBench}, until
 * direct memory ran out). Counted by write completion, up to {@link #LIMIT} bytes wait on the event
 * loop for QUIC to take the moment it can, and never more.
 */
final class PendingWrites {
  /** Several congestion windows of a fast loopback path (about 1 MiB with BBR), and flat memory. */
  static final int LIMIT = 4 << 20;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition roomy = lock.newCondition();
  private long pending;
  private boolean waiting;
  private boolean closed;

  /**
   * Waits until {@code n} more bytes fit, or the stream is {@linkplain #close closed}; then counts
   * them. One write is always let through when nothing is pending, however large.
   */
  void acquire(int n) throws InterruptedException {
    lock.lock();
    try {
      while (!closed && pending > 0 && pending + n > LIMIT) {
        waiting = true;
        roomy.await(1, TimeUnit.SECONDS);
      }
      waiting = false;
      pending += n;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The {@code n} bytes of one write were taken by QUIC (or failed). Wakes the writer only once half
   * the limit is free, so that it hands over a batch per wake-up rather than one write.
   */
  void release(int n) {
    lock.lock();
    try {
      pending -= n;
      if (waiting && pending <= LIMIT / 2) {
        roomy.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /** The stream is gone: a waiting writer returns, and later ones do not wait. */
  void close() {
    lock.lock();
    try {
      closed = true;
      roomy.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Bytes handed over and not yet taken. */
  long pending() {
    lock.lock();
    try {
      return pending;
    } finally {
      lock.unlock();
    }
  }
}
