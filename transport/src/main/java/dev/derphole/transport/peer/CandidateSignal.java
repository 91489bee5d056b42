package dev.derphole.transport.peer;

import java.util.List;

/**
 * Carries our candidates to the peer: in a session, a sealed control message over the relay. The
 * whole current list each time (a lost message costs nothing once a newer one arrives); {@link
 * PeerConnection} calls it when the list grows and again every few seconds while there is no direct path.
 */
@FunctionalInterface
public interface CandidateSignal {
  void send(List<String> candidates);
}
