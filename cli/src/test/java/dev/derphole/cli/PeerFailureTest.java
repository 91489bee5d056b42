package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.SessionException;
import dev.derphole.session.offer.OfferReceiver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Which words a failed transfer shows its user. The race this pins down: the receiver refuses an
 * offer on the stream, the sender reads that and ends the session at once with the same words,
 * and only then does the receiver ask why it failed. Seen in CI as the receiver printing "the
 * other side failed: the receiver declined: not enough space …" instead of "not enough space …".
 */
class PeerFailureTest {
  /** The session as the receiver sees it once the sender has closed it over the refusal. */
  private static final UnaryOperator<String> CLOSED_BY_SENDER =
      fallback -> "the other side failed: the receiver declined: not enough space for \"a\"";
  private static final UnaryOperator<String> STILL_OPEN = fallback -> fallback;

  @Test
  void aRefusalOfThisSideKeepsItsOwnWordsWhenTheSenderHasAlreadyClosed() throws Exception {
    SessionException refused = refusal("not enough space for \"a\": 20.0 MiB needed, 8.0 MiB free in /x");

    assertThat(PeerFailure.reason(CLOSED_BY_SENDER, refused))
        .isEqualTo("not enough space for \"a\": 20.0 MiB needed, 8.0 MiB free in /x");
    assertThat(PeerFailure.reason(STILL_OPEN, refused))
        .isEqualTo("not enough space for \"a\": 20.0 MiB needed, 8.0 MiB free in /x");
  }

  @Test
  void aFailureTheClosedSessionCausedShowsTheSessionsReason() {
    // A stream cut under a read: the session knows better than the socket error.
    assertThat(PeerFailure.reason(CLOSED_BY_SENDER, new SocketException("Connection reset")))
        .isEqualTo("the other side failed: the receiver declined: not enough space for \"a\"");
    assertThat(PeerFailure.reason(STILL_OPEN, new SessionException("the transfer ended early")))
        .isEqualTo("the transfer ended early");
  }

  @Test
  void theOtherSidesWordsComeBackEscaped() {
    UnaryOperator<String> hostile = fallback -> "the other side failed: \u009b2J\u202e";
    assertThat(PeerFailure.reason(hostile, new SocketException("Connection reset")))
        .isEqualTo("the other side failed: \\x9b2J\\u202e");
  }

  /** A refusal as OfferReceiver makes it: said to a sender, returned for this side's user. */
  private static SessionException refusal(String words) throws IOException {
    return new OfferReceiver(InputStream.nullInputStream(), OutputStream.nullOutputStream()).refuse(words, words);
  }
}
