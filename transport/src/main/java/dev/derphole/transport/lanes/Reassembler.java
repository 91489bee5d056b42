package dev.derphole.transport.lanes;

import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Puts chunks from several lanes back in stream order and hands the bytes to an
 * {@link InOrderSink}, each byte once. Bytes that arrive ahead of the delivered offset wait in a
 * buffer of at most {@code bound} bytes; a chunk that would overflow it is refused with
 * {@link Offer#PAUSED}: its lane keeps that chunk, stops reading (so the lane's own flow control
 * pushes back on the sender) and offers it again after {@link Listener#resume}. Memory is thus
 * at most {@code bound} plus one chunk per paused lane, and nothing is ever dropped. The held bytes
 * are also at most {@link #maxSegments} separate pieces (one per 512 bytes of bound, at least 16),
 * so a peer sending one-byte chunks with gaps between cannot make the bookkeeping outgrow the
 * bytes.
 *
 * <p>A chunk that fills the gap at the delivered offset is always taken (it is written straight
 * through), so the transfer moves as long as the lane carrying that gap is read. The
 * {@link Striper} never sends past its window; with {@code window ≤ bound} an honest sender never
 * makes a lane pause. Not thread-safe: one owner drives it.
 *
 * <p>Refused as protocol errors: a fresh chunk that goes backwards on its lane, and bytes that
 * differ from bytes already held for the same offsets. Bytes below the delivered offset are
 * dropped as duplicates (after a lane fails over, the receiver may get both copies).
 */
public final class Reassembler {
  /** Told when a paused lane may offer its chunk again. Schedule the offer; do not re-enter. */
  public interface Listener {
    void resume(int lane);
  }

  public enum Offer { ACCEPTED, PAUSED }

  private final InOrderSink sink;
  private final long bound;
  private final Listener listener;
  private final long[] freshEnd;
  private final boolean[] paused;
  /** Disjoint segments ahead of {@link #delivered}, by start offset. */
  private final TreeMap<Long, byte[]> ahead = new TreeMap<>();
  private final int maxSegments;
  private long buffered;
  private long delivered;
  private long duplicates;

  public Reassembler(int lanes, long bound, InOrderSink sink, Listener listener) {
    if (lanes < 1 || lanes > 16) {
      throw new IllegalArgumentException("lanes must be 1..16, got " + lanes);
    }
    if (bound < 0) {
      throw new IllegalArgumentException("bound must be ≥ 0, got " + bound);
    }
    this.sink = sink;
    this.bound = bound;
    this.listener = listener;
    this.freshEnd = new long[lanes];
    this.paused = new boolean[lanes];
    this.maxSegments = (int) Math.min(Integer.MAX_VALUE, Math.max(16, bound / 512));
  }

  /** Takes {@code chunk} from {@code lane}, or pauses the lane (it keeps the chunk). */
  public Offer offer(int lane, Chunk chunk) throws IOException {
    if (!chunk.resent()) {
      if (chunk.offset() < freshEnd[lane]) {
        throw new LaneProtocolException("lane " + lane + " went backwards: chunk at " + chunk.offset()
            + " after one ending at " + freshEnd[lane]);
      }
    }
    long start = Math.max(chunk.offset(), delivered);
    if (start >= chunk.end()) {
      duplicates += chunk.payload().length;
      markFresh(lane, chunk);
      paused[lane] = false;
      return Offer.ACCEPTED;
    }
    long[] fresh = checkOverlapsAndCountNew(chunk, start);
    if (start > delivered && (buffered + fresh[0] > bound || ahead.size() + fresh[1] > maxSegments)) {
      paused[lane] = true;
      return Offer.PAUSED;
    }
    paused[lane] = false;
    markFresh(lane, chunk);
    duplicates += start - chunk.offset();
    if (start == delivered) {
      long before = delivered;
      sink.write(chunk.payload(), (int) (start - chunk.offset()), (int) (chunk.end() - start));
      delivered = chunk.end();
      dropBelowDelivered();
      drain();
      if (delivered > before) {
        resumePaused();
      }
    } else {
      insertGaps(chunk, start);
    }
    return Offer.ACCEPTED;
  }

  /** Every byte below this offset has gone to the sink: what the sender is told as acknowledgement. */
  public long delivered() {
    return delivered;
  }

  /** Bytes held out of order now; never more than the bound. */
  public long buffered() {
    return buffered;
  }

  public long bound() {
    return bound;
  }

  /** Separate pieces held out of order now; never more than {@link #maxSegments()}. */
  public int segments() {
    return ahead.size();
  }

  public int maxSegments() {
    return maxSegments;
  }

  /** Bytes received again after they were delivered (a failed-over lane's chunks). */
  public long duplicates() {
    return duplicates;
  }

  public boolean isPaused(int lane) {
    return paused[lane];
  }

  private void markFresh(int lane, Chunk chunk) {
    if (!chunk.resent()) {
      freshEnd[lane] = chunk.end();
    }
  }

  /**
   * Checks that the chunk's bytes from {@code start} agree with every held segment they overlap,
   * and returns how many of them are not held yet and in how many pieces.
   */
  private long[] checkOverlapsAndCountNew(Chunk chunk, long start) throws LaneProtocolException {
    long covered = 0;
    long gaps = 0;
    long pos = start;
    Map.Entry<Long, byte[]> e = ahead.floorEntry(start);
    Long key = e != null && e.getKey() + e.getValue().length > start ? e.getKey() : ahead.ceilingKey(start);
    while (key != null && key < chunk.end()) {
      byte[] seg = ahead.get(key);
      long from = Math.max(key, start);
      long to = Math.min(key + seg.length, chunk.end());
      if (from < to) {
        int a = (int) (from - chunk.offset());
        int b = (int) (from - key);
        int n = (int) (to - from);
        if (!Arrays.equals(chunk.payload(), a, a + n, seg, b, b + n)) {
          throw new LaneProtocolException("chunks disagree about the bytes at " + from + ".." + to);
        }
        covered += n;
        gaps += from > pos ? 1 : 0;
        pos = to;
      }
      key = ahead.higherKey(key);
    }
    gaps += pos < chunk.end() ? 1 : 0;
    return new long[] {chunk.end() - start - covered, gaps};
  }

  /** Holds the parts of the chunk from {@code start} that no held segment covers. */
  private void insertGaps(Chunk chunk, long start) {
    long pos = start;
    while (pos < chunk.end()) {
      Map.Entry<Long, byte[]> e = ahead.floorEntry(pos);
      if (e != null && e.getKey() + e.getValue().length > pos) {
        pos = e.getKey() + e.getValue().length;
        continue;
      }
      Long nextKey = ahead.higherKey(pos);
      long to = nextKey == null ? chunk.end() : Math.min(nextKey, chunk.end());
      int a = (int) (pos - chunk.offset());
      ahead.put(pos, Arrays.copyOfRange(chunk.payload(), a, a + (int) (to - pos)));
      buffered += to - pos;
      pos = to;
    }
  }

  /** Forgets held bytes the delivered offset has passed (they were just written through). */
  private void dropBelowDelivered() {
    while (!ahead.isEmpty() && ahead.firstKey() < delivered) {
      Map.Entry<Long, byte[]> e = ahead.pollFirstEntry();
      byte[] seg = e.getValue();
      buffered -= seg.length;
      long end = e.getKey() + seg.length;
      if (end > delivered) {
        byte[] rest = Arrays.copyOfRange(seg, (int) (delivered - e.getKey()), seg.length);
        ahead.put(delivered, rest);
        buffered += rest.length;
        return;
      }
    }
  }

  /** Writes out every held segment that now starts at the delivered offset. */
  private void drain() throws IOException {
    Map.Entry<Long, byte[]> e;
    while ((e = ahead.firstEntry()) != null && e.getKey() == delivered) {
      ahead.pollFirstEntry();
      byte[] seg = e.getValue();
      buffered -= seg.length;
      sink.write(seg, 0, seg.length);
      delivered += seg.length;
    }
  }

  private void resumePaused() {
    for (int lane = 0; lane < paused.length; lane++) {
      if (paused[lane]) {
        listener.resume(lane);
      }
    }
  }
}
