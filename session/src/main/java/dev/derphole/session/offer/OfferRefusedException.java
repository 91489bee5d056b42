package dev.derphole.session.offer;

import dev.derphole.session.SessionException;

/**
 * This side turned the offer down, for a reason of its own, and has told the sender so on the
 * transfer's stream. The sender then ends the session with those words, which this side reads as
 * "the other side failed: the receiver declined: …"; a caller shows this message instead, as
 * {@link PeerVerdictException} does on the sending side.
 */
public final class OfferRefusedException extends SessionException {
  OfferRefusedException(String message) {
    super(message);
  }
}
