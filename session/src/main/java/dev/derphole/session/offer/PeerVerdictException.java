package dev.derphole.session.offer;

import dev.derphole.session.SessionException;

/**
 * The receiver said no, in its own words, on the transfer's stream. Those words are more exact
 * than whatever the session learns as the receiver then closes it (its abort carries the same
 * reason, but as "the other side failed"), so a caller shows this message as it is.
 */
public final class PeerVerdictException extends SessionException {
  PeerVerdictException(String message) {
    super(message);
  }
}
