package dev.derphole.session;

/**
 * One side of a session (the issuer or the claimant), as its command sees it: why the session
 * ended, and the two ways of ending it early that tell the other side.
 */
public abstract class SessionSide implements AutoCloseable {
  final SessionCore core;

  SessionSide(SessionCore core) {
    this.core = core;
  }

  /** Why the connection ended, for the user; {@code fallback} when nothing better is known. */
  public String reason(String fallback) {
    return core.reason(fallback);
  }

  /** Ctrl-C: tell the other side we were interrupted, then let the process exit. */
  public void interrupt() {
    core.abort(ConnectionWatch.CLOSE_INTERRUPTED, "interrupted");
  }

  /**
   * Waits, at most {@code limit}, for the other side to close the connection: after this side has
   * said its last word on a stream, so that an abort does not overtake it.
   */
  public void awaitClosedByPeer(java.time.Duration limit) {
    core.awaitClosed(limit);
  }

  /** A local failure: tell the other side why. */
  public void fail(String why) {
    core.abort(ConnectionWatch.CLOSE_FAILED, why);
  }

  /** The session's direct lanes beside its connection (issue #34); {@link DirectLanes#agreed} 1: none. */
  public DirectLanes lanes() {
    return core.lanes;
  }

  /** Lanes that come up (and streams the peer opens on them) go to {@code user}; before any can. */
  public void useLanes(DirectLanes.User user) {
    core.laneUser = user;
  }

  /** What the session reports to (--verbose). */
  public Reporter reporter() {
    return core.options.reporter();
  }

  @Override
  public void close() {
    core.close();
  }
}
