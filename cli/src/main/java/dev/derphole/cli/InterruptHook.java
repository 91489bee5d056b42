package dev.derphole.cli;

import dev.derphole.session.SessionSide;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * While open, Ctrl-C (or SIGTERM) tells the other side that this one was interrupted, after
 * running {@code cleanup} (e.g. removing a half-received file). {@link #done} marks the work
 * finished, after which an interrupt no longer counts; closing removes the hook.
 */
final class InterruptHook implements AutoCloseable {
  private final AtomicBoolean finished = new AtomicBoolean();
  private final Thread hook;

  InterruptHook(SessionSide session, Runnable cleanup) {
    this.hook = new Thread(() -> {
      if (!finished.get()) {
        cleanup.run();
        session.interrupt();
      }
    }, "interrupt-hook");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  InterruptHook(SessionSide session) {
    this(session, () -> { });
  }

  void done() {
    finished.set(true);
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the JVM is exiting: the hook runs or has run
    }
  }
}
