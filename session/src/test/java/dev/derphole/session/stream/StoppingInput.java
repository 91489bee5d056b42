package dev.derphole.session.stream;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Test input for striped transfers: {@code data}, stopping at each offset given to {@link #stopAt}
 * until the sending side's {@code --verbose} events satisfy its condition (at most 30 s), so a test
 * can make lanes open, close or retire at a known point of the stream.
 */
public final class StoppingInput extends InputStream {
  private record Stop(Predicate<List<String>> until, Runnable then) {}

  private final byte[] data;
  private final List<String> events;
  private final Supplier<String> context;
  private final TreeMap<Integer, Stop> stops = new TreeMap<>();
  private int pos;

  /**
   * @param events the sending side's events as they come
   * @param context what a stop that is never satisfied should say (the events of both sides)
   */
  public StoppingInput(byte[] data, List<String> events, Supplier<String> context) {
    this.data = data;
    this.events = events;
    this.context = context;
  }

  /** At {@code offset}, waits until {@code until} holds for the events, then runs {@code then}. */
  public StoppingInput stopAt(int offset, Predicate<List<String>> until, Runnable then) {
    stops.put(offset, new Stop(until, then));
    return this;
  }

  @Override
  public int read() {
    throw new UnsupportedOperationException();
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (pos == data.length) {
      return -1;
    }
    Stop stop = stops.get(pos);
    if (stop != null) {
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> stop.until().test(events));
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        throw new IOException("the pipe's events never got there: " + context.get());
      }
      stop.then().run();
    }
    Integer next = stops.higherKey(pos);
    int end = next == null ? data.length : Math.min(next, data.length);
    int n = Math.min(len, end - pos);
    System.arraycopy(data, pos, b, off, n);
    pos += n;
    return n;
  }

  /** The bytes a side's {@code lane-rate} lines say lane {@code lane} carried. */
  public static long laneBytes(List<String> lines, int lane) {
    return lines.stream().filter(l -> l.startsWith("lane-rate " + lane + " "))
        .mapToLong(l -> Long.parseLong(l.split(" ")[2])).sum();
  }
}
