package dev.derphole.cli;

import dev.derphole.session.IssuedSession;
import dev.derphole.session.SessionException;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import dev.derphole.session.token.TokenException;
import io.netty.channel.ChannelHandler;
import java.time.Instant;

/**
 * Receiver first: {@code derphole receive} without a token issues one (capability {@code receive},
 * token version 2) and waits; {@code derphole send --to TOKEN WHAT} claims it and sends. The
 * session is the sender-first one with the roles of issuer and claimant swapped: one-shot, one
 * hour, sealed claim, pinned QUIC; the sender opens the one stream.
 */
final class ReceiverFirst {
  private ReceiverFirst() {}

  /** Opens the receiver's session and shows what to run on the other machine. */
  static IssuedSession open(SessionSetup setup, TokenDisplay display, ChannelHandler streams, int lanes)
      throws SessionException, InterruptedException {
    IssuedSession session = IssuedSession.open(Capability.RECEIVE, setup.options, streams, lanes);
    System.err.println("Ready to receive: on the other machine, put what to send after the token.");
    display.show("derphole send --to", session.token().encode());
    setup.options.reporter().event("waiting-for-claim", "");
    return session;
  }

  /**
   * A receive token given to {@code send} as what to send, where it would go out as text: a usage
   * error that says how to send to it.
   */
  static void refuseTokenAsText(String what) {
    try {
      if (Token.decode(what, Instant.now()).capability() == Capability.RECEIVE) {
        throw new Launcher.UsageException("that is a token from `derphole receive`; send to it with"
            + " `derphole send --to TOKEN WHAT`");
      }
    } catch (TokenException notOne) {
      // text, to be sent as text
    }
  }
}
