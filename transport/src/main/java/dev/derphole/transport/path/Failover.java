package dev.derphole.transport.path;

import java.time.Duration;

/**
 * Moves {@link DirectPath} from a direct path that went quiet to another of the peer's addresses
 * that answers, without the relay in between (a dual-stack pair whose IPv6 path dies while IPv4
 * works, or the other way round).
 *
 * <pre>
 *   LIVE ──quiet──▶ ASKED (one ping to the path in use) ──its answer──▶ LIVE
 *                     └──no word from it for {@link #answerWait}──▶ SEEKING (the other addresses probed
 *                          every {@link DirectPath#PROBE_INTERVAL}; the first to answer takes over)
 * </pre>
 *
 * A path is quiet when {@link PeerPath} heard nothing authenticated over direct for {@link
 * PeerPath#SUSPECT} (the peer's QUIC or disco; it sends copies over the relay from then on), or
 * when no disco came from the address in use for {@link #QUIET_DISCO}: the peer may already have
 * moved to another of our addresses, and its QUIC from there keeps {@link PeerPath#lastDirectIn()}
 * fresh while what we send to the old address is lost; so once asked, only disco from that
 * address (the answer, or the peer's next keepalive ping) clears the question. An idle path is
 * often quiet between keepalives; the ping to it (stage one) answers that, and only a path that
 * stays silent for {@link #answerWait} after it is given up. A path given up too soon (it was only
 * slow) can win back at a later probe if {@link PathChoice} prefers it. {@link DirectPath#STALE}
 * still ends in the relay when no other address answers.
 */
final class Failover {
  /** No disco from the address in use for this long: quiet, whatever else arrives over direct. */
  static final Duration QUIET_DISCO = DirectPath.KEEPALIVE.plus(PeerPath.SUSPECT);
  /** The least time the path in use has to answer the ping that asks whether it is still there. */
  static final Duration ANSWER_WAIT_MIN = Duration.ofMillis(250);

  enum Step {
    NOTHING,
    PING_CURRENT,
    PROBE_OTHERS
  }

  /** When the path in use was asked whether it is there (ns), 0 while it is not quiet. */
  private long asked;
  private long lastProbe;

  /**
   * What to do at {@code now}, all in ns: {@code lastDirectIn} from {@link PeerPath}, {@code
   * heard} the last disco from the address in use, {@code rtt} its round trip.
   */
  Step tick(long now, long lastDirectIn, long heard, long rtt) {
    boolean quiet = now - lastDirectIn > PeerPath.SUSPECT.toNanos() || now - heard > QUIET_DISCO.toNanos()
        || (asked != 0 && heard < asked); // once asked, only its answer (or a fresh ping) clears it
    if (!quiet) {
      asked = 0;
      return Step.NOTHING;
    }
    if (asked == 0) {
      asked = now;
      lastProbe = 0;
      return Step.PING_CURRENT;
    }
    if (seeking(now, heard, rtt) && (lastProbe == 0 || now - lastProbe >= DirectPath.PROBE_INTERVAL.toNanos())) {
      lastProbe = now;
      return Step.PROBE_OTHERS;
    }
    return Step.NOTHING;
  }

  /** Whether another address that answers now takes over from the path in use. */
  boolean seeking(long now, long heard, long rtt) {
    return asked != 0 && heard < asked && now - asked >= answerWait(rtt);
  }

  /** A new path is in use (or none). */
  void reset() {
    asked = 0;
    lastProbe = 0;
  }

  /** How long the path in use has to answer: a few of its round trips, at least {@link #ANSWER_WAIT_MIN}. */
  static long answerWait(long rtt) {
    return Math.max(ANSWER_WAIT_MIN.toNanos(), 4 * rtt);
  }
}
