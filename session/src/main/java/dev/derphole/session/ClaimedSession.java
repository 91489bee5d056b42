package dev.derphole.session;

import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.session.claim.Claimant;
import dev.derphole.session.claim.Decision;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.rendezvous.RelayPicker;
import dev.derphole.session.token.Token;
import dev.derphole.transport.quic.QuicTransport;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The claimant's end (pipe, receive, open, ssh accept): dials the token's relay, sends the sealed
 * claim until the issuer answers, then dials QUIC to the pinned issuer.
 *
 * <pre>
 *   CLAIMING ──accept──▶ CONNECTING ──QUIC handshake──▶ CONNECTED
 *      └──reject / no answer / issuer not on the relay──▶ failed, with the reason
 * </pre>
 */
public final class ClaimedSession extends SessionSide {
  /** First resend of the claim; doubles up to {@link #MAX_RESEND}. */
  static final Duration FIRST_RESEND = Duration.ofMillis(250);
  static final Duration MAX_RESEND = Duration.ofSeconds(2);
  static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(20);

  private final QuicChannel quic;

  private ClaimedSession(SessionCore core, QuicChannel quic) {
    super(core);
    this.quic = quic;
  }

  public static ClaimedSession claim(Token token, SessionOptions options, ChannelHandler streamHandler)
      throws SessionException, InterruptedException {
    return claim(token, options, streamHandler, 1, null);
  }

  /**
   * As {@link #claim(Token, SessionOptions, ChannelHandler)}, allowing up to {@code maxLanes} direct
   * lanes; {@code laneUser} (may be null) takes them as they come up.
   */
  public static ClaimedSession claim(Token token, SessionOptions options, ChannelHandler streamHandler, int maxLanes,
                                     DirectLanes.User laneUser) throws SessionException, InterruptedException {
    RelayPicker.Choice relay = RelayPicker.forClaimant(token, options.maps(), options.customMap());
    SessionCore core = new SessionCore(options, relay.nodes());
    try {
      SessionKeys keys = SessionKeys.of(token);
      core.startDirect(keys, false, relay.stunServers());
      Claimant claimant = new Claimant(token, core.link.publicKey(), core.tls.publicKey(), core.localCandidates(),
          Instant.now(), options.allowLoopbackCandidates());
      claimant.offerLanes(options.forceRelay() ? 1 : maxLanes);
      core.laneUser = laneUser;
      CompletableFuture<Decision> decision = new CompletableFuture<>();
      core.link.onEnvelope((src, packet) -> {
        if (!core.onControl(src, packet)) {
          claimant.onPacket(src, packet).ifPresent(decision::complete);
        }
      });
      core.link.watch(token.issuerDerpKey());
      String issuer = "`" + token.capability().issuerCommand() + "`";
      core.link.onPeerGone((k, reason) -> {
        if (reason == PeerGoneReason.NOT_HERE) {
          decision.completeExceptionally(new SessionException("the other side (" + issuer
              + ") is not connected to the relay; has it exited?"));
        }
      });
      Decision d = awaitDecision(core, token, claimant, decision, options.claimTimeout(), issuer);
      if (!d.accepted()) {
        throw new SessionException(d.rejectReason());
      }
      options.reporter().event("claimed", "");
      core.attach(token.issuerDerpKey());
      core.startControl(keys, token.sessionId(), false, token.issuerDerpKey(), d.candidates());
      core.startLanes(claimant.agreedLanes(), false, keys, token.issuerTlsKey());
      QuicChannel quic;
      try {
        quic = QuicTransport.connect(core.udp, core.path, core.tls, token.issuerTlsKey(), core.watch,
            streamHandler != null ? streamHandler : new ChannelInboundHandlerAdapter())
            .get(HANDSHAKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new SessionException(core.reason("could not set up the encrypted connection to the other side"), e);
      }
      core.quic = quic;
      options.reporter().event("quic-connected", core.pathDescription());
      return new ClaimedSession(core, quic);
    } catch (SessionException | InterruptedException | RuntimeException e) {
      core.close();
      throw e;
    }
  }

  private static Decision awaitDecision(SessionCore core, Token token, Claimant claimant, CompletableFuture<Decision> decision,
                                        Duration timeout, String issuer) throws SessionException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Duration wait = FIRST_RESEND;
    byte[] sealed = claimant.sealedClaim();
    while (true) {
      core.link.send(token.issuerDerpKey(), sealed);
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SessionException("no answer from " + issuer + " after " + timeout.toSeconds() + " s; is it still running?");
      }
      try {
        return decision.get(Math.min(wait.toNanos(), left), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        wait = wait.multipliedBy(2).compareTo(MAX_RESEND) > 0 ? MAX_RESEND : wait.multipliedBy(2);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof SessionException s ? s : new SessionException(e.getCause().getMessage(), e.getCause());
      }
    }
  }

  public QuicChannel connection() {
    return quic;
  }

}
