package dev.derphole.transport.lanes;

/**
 * The sending end of one lane as the {@link Striper} sees it: a bounded sink of chunk frames.
 * A lane that stalls reports no room and so gets nothing more.
 */
public interface LaneSink {
  /** How many encoded bytes (headers included) the lane takes now without queueing beyond its bound. */
  int room();

  /** Hands the lane one chunk; never called with more than {@link #room()} encoded bytes. */
  void send(Chunk chunk);
}
