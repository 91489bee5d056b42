package dev.derphole.derp.server;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * One connection's part in sender backpressure, in both of its roles: as a sender it may be
 * paused on one destination; as a destination it keeps the senders paused on its queue and wakes
 * them when the queue drains.
 *
 * <pre>
 *   sender reads ──▶ route ──▶ dst queue ≥ ½ ──▶ sender paused ──▶ dst queue ≤ ¼ ──▶ sender read again
 *                                                      └──── pause limit ──▶ dst stalled: drop when full
 * </pre>
 *
 * A destination that keeps a sender waiting longer than the limit is marked stalled: its senders
 * are read again, and its packets dropped once its queue is full, until it drains. So one client
 * that stops reading holds up anybody else for at most the limit. A limit of zero turns pausing
 * off. The sender side runs on the sender's event loop; wake-ups may come from any thread.
 */
final class SenderBackpressure {
  private final ServerMetrics metrics;
  private final Duration limit;
  private final IntSupplier queuedPackets;
  private final LongSupplier queuedBytes;
  private final int pausePackets;
  private final long pauseBytes;
  /** Turns reading back on or off for the owner after a pause starts or ends. */
  private final Runnable readChanged;
  private EventExecutor executor;

  /** As a sender: the destination waited for; null while read. */
  private SenderBackpressure pausedOn;
  private ScheduledFuture<?> limitTask;

  /** As a destination: senders paused on this queue (may hold stale entries). */
  private final Queue<SenderBackpressure> waiters = new ConcurrentLinkedQueue<>();
  /** Kept a sender waiting past the limit: its senders are not paused until it drains. */
  private volatile boolean stalled;
  private volatile boolean closed;

  SenderBackpressure(ServerMetrics metrics, Duration limit, int queuePackets, long queueBytes,
      IntSupplier queuedPackets, LongSupplier queuedBytes, Runnable readChanged) {
    this.metrics = metrics;
    this.limit = limit;
    this.queuedPackets = queuedPackets;
    this.queuedBytes = queuedBytes;
    this.pausePackets = Math.max(1, queuePackets / 2);
    this.pauseBytes = queueBytes / 2;
    this.readChanged = readChanged;
  }

  /** The event loop of the owner, known once its channel is. */
  void executor(EventExecutor executor) {
    this.executor = executor;
  }

  /** Whether the owner, as a sender, is waiting for a destination. */
  boolean paused() {
    return pausedOn != null;
  }

  /**
   * On the sender's loop, after a packet went to {@code dst}'s queue: pause if it backed up, for
   * at most {@code dst}'s limit (a client's queue and a mesh peer's may have different ones).
   */
  void afterSend(SenderBackpressure dst) {
    if (pausedOn == null && dst.backedUp() && !dst.stalled && !dst.limit.isZero()) {
      pauseOn(dst);
    }
  }

  /** As a destination, after its queue shrank: wake the senders once it drained far enough. */
  void afterDrain() {
    if ((stalled || !waiters.isEmpty()) && drainedEnough()) {
      stalled = false;
      wakeWaiters();
    }
  }

  /** As a destination that closed: nothing more is queued for it, so its senders go on. */
  void closed() {
    closed = true;
    wakeWaiters();
  }

  /** As a sender that closed: no pause is pending any more. */
  void cancel() {
    if (limitTask != null) {
      limitTask.cancel(false);
    }
  }

  private boolean backedUp() {
    return queuedPackets.getAsInt() >= pausePackets || queuedBytes.getAsLong() >= pauseBytes;
  }

  private boolean drainedEnough() {
    return queuedPackets.getAsInt() <= pausePackets / 2 && queuedBytes.getAsLong() <= pauseBytes / 2;
  }

  private void pauseOn(SenderBackpressure dst) {
    metrics.senderPauses.increment();
    pausedOn = dst;
    readChanged.run();
    limitTask = executor.schedule(() -> {
      if (pausedOn == dst) {
        metrics.senderPauseLimits.increment();
        dst.stalled = true;
        dst.wakeWaiters();
        resume(dst);
      }
    }, dst.limit.toNanos(), TimeUnit.NANOSECONDS);
    dst.waiters.add(this);
    if (dst.drainedEnough() || dst.closed) {
      resume(dst); // it drained, or left, before it could see us waiting
    }
  }

  /** From any thread: {@code dst}, which this sender waited for, has drained or gone. */
  private void wake(SenderBackpressure dst) {
    if (executor.inEventLoop()) {
      resume(dst);
    } else {
      executor.execute(() -> resume(dst));
    }
  }

  private void resume(SenderBackpressure dst) {
    if (pausedOn != dst) {
      return; // a stale wake-up: that pause has already ended
    }
    pausedOn = null;
    limitTask.cancel(false);
    readChanged.run();
  }

  private void wakeWaiters() {
    SenderBackpressure w;
    while ((w = waiters.poll()) != null) {
      w.wake(this);
    }
  }
}
