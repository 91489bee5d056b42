package dev.derphole.session.tunnel;

import dev.derphole.session.token.TokenException;
import dev.derphole.session.SessionException;
import dev.derphole.session.SessionOptions;
import dev.derphole.session.TunnelClientLeg;
import io.netty.handler.codec.quic.QuicChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code derptun open} and {@code connect}: keeps a connection to the server up for as long as it
 * runs. When the connection ends (relay restart, network cut, server restart), it claims again
 * with backoff, 1 s doubling to 30 s, and reports each wait ({@code reconnecting in 4s (…)}). A
 * server's reject (expired, altered token, …) is final.
 *
 * <pre>
 *   CONNECTING ──leg up──▶ UP ──connection ends──▶ WAITING (backoff) ──▶ CONNECTING
 *        └──reject──▶ REFUSED (final)           CLOSED from any state
 * </pre>
 *
 * A short outage does not end the connection at all: QUIC keeps it for its 30 s idle timeout while
 * both relay connections redial, so TCP streams that are open carry on.
 */
public final class TunnelClient implements AutoCloseable {
  public static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  public static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  enum State { CONNECTING, UP, WAITING, REFUSED, CLOSED }

  private final ClientToken token;
  private final SessionOptions options;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Thread runner;
  private State state = State.CONNECTING;
  private TunnelClientLeg leg;
  private SessionException refusal;
  private String lastProblem = "";
  private volatile java.util.function.Consumer<QuicChannel> onConnected = q -> { };

  public TunnelClient(ClientToken token, SessionOptions options) {
    this.token = token;
    this.options = options;
    this.runner = new Thread(this::run, "derptun-client");
    this.runner.setDaemon(true);
  }

  /**
   * Called with each new connection (on the client's thread) before it is reported up, so that a
   * listener moved to it is ready when {@code tunnel-up} shows.
   */
  public TunnelClient onConnected(java.util.function.Consumer<QuicChannel> listener) {
    this.onConnected = listener;
    return this;
  }

  public TunnelClient start() {
    runner.start();
    return this;
  }

  /**
   * The live connection, waiting up to {@code timeout} for one.
   *
   * @throws SessionException the server refused us (final), or no connection within the time
   */
  public QuicChannel awaitConnection(Duration timeout) throws SessionException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      while (true) {
        if (state == State.REFUSED) {
          throw refusal;
        }
        if (state == State.CLOSED) {
          throw new SessionException("the tunnel was closed");
        }
        if (state == State.UP && leg.connection().isActive()) {
          return leg.connection();
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new SessionException("no connection to the server within " + timeout.toSeconds() + " s"
              + (lastProblem.isEmpty() ? "" : " (" + lastProblem + ")"));
        }
        changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Whether the server refused us (or the token expired): final, no more attempts. */
  public boolean refused() {
    lock.lock();
    try {
      return state == State.REFUSED;
    } finally {
      lock.unlock();
    }
  }

  /** Why the current or last connection ended, for the user. */
  public String reason(String fallback) {
    lock.lock();
    try {
      return leg != null ? leg.reason(fallback) : fallback;
    } finally {
      lock.unlock();
    }
  }

  private void run() {
    Duration backoff = FIRST_BACKOFF;
    while (!isClosed()) {
      try {
        token.requireUnexpired(Instant.now());
      } catch (TokenException e) {
        refuse(new SessionException(e.getMessage()));
        return;
      }
      TunnelClientLeg l;
      try {
        l = TunnelClientLeg.dial(token.session(), sealed -> TunnelClaimPacket.wrap(token, sealed), options,
            options.claimTimeout());
      } catch (TunnelClientLeg.Rejected e) {
        refuse(e);
        return;
      } catch (SessionException e) {
        lastProblem = e.getMessage();
        options.reporter().event("reconnecting", "in " + backoff.toSeconds() + "s (" + e.getMessage() + ")");
        if (!pause(backoff)) {
          return;
        }
        backoff = next(backoff);
        continue;
      } catch (InterruptedException e) {
        return;
      }
      backoff = FIRST_BACKOFF;
      Keepalive.start(l.connection());
      onConnected.accept(l.connection());
      lock.lock();
      try {
        if (state == State.CLOSED) {
          l.close();
          return;
        }
        leg = l;
        state = State.UP;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
      options.reporter().event("tunnel-up", l.pathDescription());
      l.connection().closeFuture().awaitUninterruptibly();
      String why = l.reason("connection closed");
      lastProblem = why;
      lock.lock();
      try {
        if (state == State.UP) {
          state = State.WAITING;
        }
      } finally {
        lock.unlock();
      }
      l.close();
      if (isClosed()) {
        return;
      }
      options.reporter().event("tunnel-down", "(" + why + ")");
      options.reporter().event("reconnecting", "in " + backoff.toSeconds() + "s (" + why + ")");
      if (!pause(backoff)) {
        return;
      }
      backoff = next(backoff);
      lock.lock();
      try {
        if (state == State.WAITING) {
          state = State.CONNECTING;
        }
      } finally {
        lock.unlock();
      }
    }
  }

  /** Doubles, up to {@link #MAX_BACKOFF}. */
  static Duration next(Duration backoff) {
    Duration doubled = backoff.multipliedBy(2);
    return doubled.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : doubled;
  }

  private void refuse(SessionException why) {
    lock.lock();
    try {
      refusal = why;
      state = State.REFUSED;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    options.reporter().event("refused", why.getMessage());
  }

  private boolean isClosed() {
    lock.lock();
    try {
      return state == State.CLOSED || state == State.REFUSED;
    } finally {
      lock.unlock();
    }
  }

  /** Waits {@code d} unless closed first; false if closed. */
  private boolean pause(Duration d) {
    long left = d.toNanos();
    lock.lock();
    try {
      while (state != State.CLOSED && left > 0) {
        left = changed.awaitNanos(left);
      }
      return state != State.CLOSED;
    } catch (InterruptedException e) {
      return false;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    TunnelClientLeg l;
    lock.lock();
    try {
      state = State.CLOSED;
      l = leg;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (l != null) {
      l.close();
    }
    try {
      runner.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
