package dev.derphole.transport.lanes;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts an outgoing byte stream into chunks and hands each to a lane with room, round robin. Every
 * chunk stays with the lane it went on until the receiver's delivered offset passes its end
 * ({@link #acknowledge}); a lane that dies gives those chunks back and they are resent, first,
 * on the lanes that live.
 *
 * <p>The window bounds both ends: no byte at or past {@code acknowledged + window} is ever sent,
 * so the sender holds at most {@code window} unacknowledged bytes, and a receiver whose reorder
 * bound is at least {@code window} never has to pause a lane (it holds only bytes inside the
 * window). Not thread-safe: one owner (the connection's event loop) drives it.
 */
public final class Striper {
  /** Most lanes one transfer can have. */
  public static final int MAX_LANES = 16;

  private final List<LaneSink> lanes;
  private final List<ArrayDeque<Chunk>> unacked = new ArrayList<>();
  private final boolean[] dead = new boolean[MAX_LANES];
  private final boolean[] retired = new boolean[MAX_LANES];
  private final int maxPayload;
  private final long window;
  private final ArrayDeque<Chunk> toResend = new ArrayDeque<>();
  private long next;
  private long acknowledged;
  private int cursor;

  public Striper(List<? extends LaneSink> lanes, int maxPayload, long window) {
    if (lanes.isEmpty() || lanes.size() > MAX_LANES) {
      throw new IllegalArgumentException("lanes must be 1.." + MAX_LANES + ", got " + lanes.size());
    }
    if (maxPayload < 1 || maxPayload > Chunk.MAX_PAYLOAD) {
      throw new IllegalArgumentException("maxPayload must be 1.." + Chunk.MAX_PAYLOAD + ", got " + maxPayload);
    }
    if (window < maxPayload) {
      throw new IllegalArgumentException("window " + window + " is smaller than one chunk (" + maxPayload + ")");
    }
    this.lanes = new ArrayList<>(lanes);
    this.maxPayload = maxPayload;
    this.window = window;
    for (int i = 0; i < lanes.size(); i++) {
      unacked.add(new ArrayDeque<>());
    }
  }

  /**
   * Sends as much of {@code src[off, off+len)} as the window and the lanes' room allow, after any
   * chunks waiting to be resent. Returns how many bytes were taken (0: call again when a lane has
   * room or an acknowledgement came).
   */
  public int write(byte[] src, int off, int len) throws IOException {
    pump();
    if (!toResend.isEmpty()) {
      return 0;
    }
    int taken = 0;
    while (taken < len) {
      long windowLeft = acknowledged + window - next;
      if (windowLeft <= 0) {
        break;
      }
      int lane = laneWithRoom();
      if (lane < 0) {
        break;
      }
      int n = (int) Math.min(Math.min(len - taken, maxPayload), Math.min(windowLeft, lanes.get(lane).room() - Chunk.HEADER_LENGTH));
      byte[] payload = new byte[n];
      System.arraycopy(src, off + taken, payload, 0, n);
      Chunk chunk = new Chunk(next, false, payload);
      put(lane, chunk);
      next += n;
      taken += n;
    }
    return taken;
  }

  /**
   * A lane that came up after the transfer started joins: it takes fresh chunks (and resends) from
   * now on, in the round robin with the others. Returns its index (the next free one).
   */
  public int addLane(LaneSink lane) throws IOException {
    if (lanes.size() == MAX_LANES) {
      throw new IllegalStateException("already " + MAX_LANES + " lanes");
    }
    lanes.add(lane);
    unacked.add(new ArrayDeque<>());
    pump();
    return lanes.size() - 1;
  }

  /** How many lanes have joined, dead ones included. */
  public int lanes() {
    return lanes.size();
  }

  /** Resends what dead lanes gave back, on lanes with room; call when a lane gains room. */
  public void pump() throws IOException {
    requireLiveLane();
    while (!toResend.isEmpty()) {
      int lane = laneWithRoom();
      if (lane < 0) {
        return;
      }
      Chunk head = toResend.poll();
      int fits = lanes.get(lane).room() - Chunk.HEADER_LENGTH;
      if (head.payload().length > fits) {
        // Split: the receiver places bytes by offset, so a resent chunk may go in pieces.
        Chunk first = new Chunk(head.offset(), true, Arrays.copyOf(head.payload(), fits));
        toResend.addFirst(head.from(head.offset() + fits));
        head = first;
      }
      put(lane, head);
    }
  }

  /** The receiver has delivered every byte below {@code delivered}: frees the chunks before it. */
  public void acknowledge(long delivered) throws LaneProtocolException {
    if (delivered > next) {
      throw new LaneProtocolException("acknowledged " + delivered + " but only " + next + " bytes were sent");
    }
    if (delivered <= acknowledged) {
      return;
    }
    acknowledged = delivered;
    for (ArrayDeque<Chunk> q : unacked) {
      q.removeIf(c -> c.end() <= delivered);
    }
    toResend.removeIf(c -> c.end() <= delivered);
  }

  /**
   * Lane {@code lane} is gone: its unacknowledged chunks are resent on the others, ahead of any
   * new bytes. Throws if no lane is left.
   */
  public void laneDied(int lane) throws IOException {
    if (dead[lane]) {
      return;
    }
    dead[lane] = true;
    List<Chunk> back = new ArrayList<>(unacked.get(lane));
    unacked.get(lane).clear();
    back.sort((a, b) -> Long.compare(a.offset(), b.offset()));
    for (Chunk c : back) {
      toResend.add(c.from(acknowledged).asResent());
    }
    pump();
  }

  /**
   * Lane {@code lane} takes no new chunks and no resends from now on (--parallel auto went back);
   * what it holds unacknowledged stays with it until acknowledged, or is resent on the others if it
   * dies. Lanes that are all retired or dead still carry the rest rather than stop the transfer.
   */
  public void retire(int lane) {
    retired[lane] = true;
  }

  public boolean isRetired(int lane) {
    return retired[lane];
  }

  /** The stream offset of the next fresh byte (= bytes taken by {@link #write} so far). */
  public long sent() {
    return next;
  }

  public long acknowledged() {
    return acknowledged;
  }

  /** Bytes sent and not yet acknowledged; never more than the window. */
  public long unacknowledged() {
    return next - acknowledged;
  }

  /** Bytes given back by dead lanes and not yet resent. */
  public long waitingToResend() {
    long n = 0;
    for (Chunk c : toResend) {
      n += c.payload().length;
    }
    return n;
  }

  public boolean isDead(int lane) {
    return dead[lane];
  }

  private void put(int lane, Chunk chunk) {
    lanes.get(lane).send(chunk);
    unacked.get(lane).add(chunk);
    cursor = (lane + 1) % lanes.size();
  }

  /**
   * The next live lane that is not retired, round robin from the cursor, with room for a header and
   * a byte; or −1. Retired lanes count only when no other lane lives.
   */
  private int laneWithRoom() {
    boolean other = false;
    for (int i = 0; i < lanes.size(); i++) {
      other |= !dead[i] && !retired[i];
    }
    for (int i = 0; i < lanes.size(); i++) {
      int lane = (cursor + i) % lanes.size();
      if (!dead[lane] && (!retired[lane] || !other) && lanes.get(lane).room() > Chunk.HEADER_LENGTH) {
        return lane;
      }
    }
    return -1;
  }

  private void requireLiveLane() throws IOException {
    for (int i = 0; i < lanes.size(); i++) {
      if (!dead[i]) {
        return;
      }
    }
    throw new IOException("all " + lanes.size() + " lanes lost");
  }

  /** For tests: the chunks lane {@code lane} holds unacknowledged, in the order sent. */
  List<Chunk> unackedOn(int lane) {
    return new ArrayList<>(unacked.get(lane));
  }
}
