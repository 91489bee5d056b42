package dev.derphole.session;

import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;

/** An output that keeps nothing and counts what was written to it, readable from any thread. */
public final class CountingOutput extends OutputStream {
  private final AtomicLong count = new AtomicLong();

  /** Bytes written so far. */
  public long count() {
    return count.get();
  }

  @Override
  public void write(int b) {
    count.incrementAndGet();
  }

  @Override
  public void write(byte[] b, int off, int len) {
    count.addAndGet(len);
  }
}
