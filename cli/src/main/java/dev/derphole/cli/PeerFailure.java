package dev.derphole.cli;

import dev.derphole.session.SessionSide;
import dev.derphole.session.SessionException;
import dev.derphole.derp.io.Failures;
import dev.derphole.session.offer.OfferRefusedException;
import dev.derphole.session.offer.PeerVerdictException;
import dev.derphole.session.text.PeerText;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/** A failure on this side: told to the other side, and returned as the user's one-line error. */
final class PeerFailure {
  /** How long the other side gets to read this side's last word before the connection is aborted. */
  static final Duration LAST_WORD_WAIT = Duration.ofSeconds(2);

  private PeerFailure() {}

  /**
   * A verdict on the stream wins, in its own words: the receiver's as the sender read it, or this
   * side's own refusal; then the session's reason (the other side's message, a timeout);
   * otherwise the failure's, with I/O errors in words a user can act on. A verdict goes first
   * because the side that reads it closes the session right after, with the same words as
   * "the other side failed", which may arrive before the reason is asked for.
   */
  static SessionException tell(SessionSide session, Exception e) {
    String why = reason(session, e);
    session.fail(why);
    return new SessionException(why, e);
  }

  /**
   * As {@link #tell(SessionSide, Exception)}, first telling the other side the reason on a stream
   * ({@code lastWord}) and giving it {@link #LAST_WORD_WAIT} to read that and close the connection:
   * the session's abort, sent at once, could overtake the stream and leave the other side with
   * "the other side failed" instead of these words.
   */
  static SessionException tell(SessionSide session, Exception e, Consumer<String> lastWord) {
    String why = reason(session, e);
    lastWord.accept(why);
    session.awaitClosedByPeer(LAST_WORD_WAIT);
    session.fail(why);
    return new SessionException(why, e);
  }

  private static String reason(SessionSide session, Exception e) {
    return reason(session::reason, e);
  }

  /**
   * {@code sessionReason}: the session's reason, or the fallback it is given when there is none.
   * The result may quote the other side, so it is escaped ({@link PeerText}).
   */
  static String reason(UnaryOperator<String> sessionReason, Exception e) {
    return PeerText.printable(e instanceof PeerVerdictException || e instanceof OfferRefusedException ? e.getMessage()
        : sessionReason.apply(e instanceof IOException io ? Failures.describe(io) : e.getMessage()));
  }
}
