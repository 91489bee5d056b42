package dev.derphole.cli;

import dev.derphole.session.Reporter;
import dev.derphole.session.offer.ByteSize;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionStats;
import java.util.concurrent.TimeUnit;

/** What {@code send} says about a resumed transfer, on stderr and as {@code --verbose} events. */
final class ResumeNotes {
  private ResumeNotes() {}

  /** The receiver answered a resume request: {@code start} is where the body starts. */
  static void sender(Reporter reporter, long start, long held, long size) {
    if (start > 0) {
      System.err.println("Resuming: the receiver holds " + ByteSize.format(start) + " of " + ByteSize.format(size)
          + "; sending the other " + ByteSize.format(size - start));
    } else if (held > 0) {
      System.err.println("The receiver kept " + ByteSize.format(held) + " of an earlier try, but this copy differs"
          + " from it; sending all of it");
    }
    reporter.event("resume-from", start + " bytes");
  }

  /**
   * QUIC's count of the bytes this side sent (payload, headers and retransmissions), as the
   * {@code quic-sent-bytes} event: what a resume saved, measured below the offer protocol.
   */
  static void quicSent(Reporter reporter, QuicChannel quic) {
    quicSent(reporter, quic, java.util.List.of());
  }

  /** As above, summed over lane 0's connection and the direct lanes' ({@code lanes}, issue #34). */
  static void quicSent(Reporter reporter, QuicChannel quic, java.util.List<QuicChannel> lanes) {
    long sent;
    try {
      QuicConnectionStats stats = quic.collectStats().get(5, TimeUnit.SECONDS);
      sent = stats.sentBytes();
    } catch (Exception e) {
      return; // the connection is gone already: nothing to report
    }
    for (QuicChannel lane : lanes) {
      try {
        sent += lane.collectStats().get(5, TimeUnit.SECONDS).sentBytes();
      } catch (Exception e) {
        // a lane that closed early: what it carried is no longer counted
      }
    }
    reporter.event("quic-sent-bytes", sent + " bytes");
  }
}
