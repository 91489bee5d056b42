package dev.derphole.cli;

import dev.derphole.session.SessionEnd;
import dev.derphole.session.SessionException;
import dev.derphole.session.offer.Failures;
import java.io.IOException;
import java.util.function.Consumer;

/** A failure on this side: told to the other side, and returned as the user's one-line error. */
final class PeerFailure {
  private PeerFailure() {}

  /**
   * The session's own reason wins (the other side's message, a timeout); otherwise the failure's,
   * with I/O errors in words a user can act on.
   */
  static SessionException tell(SessionEnd session, Exception e) {
    return tell(session, e, why -> { });
  }

  /** As {@link #tell(SessionEnd, Exception)}, running {@code first} with the reason before the connection closes. */
  static SessionException tell(SessionEnd session, Exception e, Consumer<String> first) {
    String why = session.reason(e instanceof IOException io ? Failures.describe(io) : e.getMessage());
    first.accept(why);
    session.fail(why);
    return new SessionException(why, e);
  }
}
