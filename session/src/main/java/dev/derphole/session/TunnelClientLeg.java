package dev.derphole.session;

import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.claim.ClaimException;
import dev.derphole.session.claim.Claimant;
import dev.derphole.session.claim.Decision;
import dev.derphole.session.claim.Envelope;
import dev.derphole.session.claim.EnvelopeKind;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.rendezvous.RelayPicker;
import dev.derphole.session.token.Token;
import dev.derphole.transport.quic.QuicTransport;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicChannel;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

/**
 * A derptun client's connection to its server, one attempt: reaches the relay, sends the claim
 * (wrapped by the caller with the client's credential) to the server's stable DERP key until an
 * answer comes, and dials QUIC to the DERP key the accept came from (the server's leg for us).
 *
 * <pre>
 *   CLAIMING ──accept from the server's leg──▶ CONNECTING ──QUIC handshake──▶ CONNECTED
 *      ├──reject──▶ {@link Rejected} (final: retrying cannot help)
 *      └──no answer / server not on the relay / relay unreachable──▶ SessionException (retry later)
 * </pre>
 */
public final class TunnelClientLeg extends SessionSide {
  /**
   * A sealed reject from the server: the token is refused, and retrying will not change that. The
   * message is the server's reason; its reject code ({@code expired}, {@code bad_proof}) decides
   * nothing here.
   */
  public static final class Rejected extends SessionException {
    private static final long serialVersionUID = 1L;

    Rejected(String reason) {
      super(reason);
    }
  }

  private final QuicChannel quic;

  private TunnelClientLeg(SessionCore core, QuicChannel quic) {
    super(core);
    this.quic = quic;
  }

  /**
   * @param session the client's session token (relay, server keys, bearer)
   * @param wrap turns the sealed claim envelope into the packet the server's gate reads
   * @param timeout how long to wait for an answer
   */
  public static TunnelClientLeg dial(Token session, UnaryOperator<byte[]> wrap, SessionOptions options, Duration timeout)
      throws SessionException, InterruptedException {
    RelayPicker.Choice relay = RelayPicker.forClaimant(session, options.maps(), options.customMap());
    SessionCore core = new SessionCore(options, relay.nodes());
    core.peerGoneGraceSeconds = TunnelServerLeg.PEER_GONE_GRACE_SECONDS;
    try {
      SessionKeys keys = SessionKeys.of(session);
      core.startDirect(keys, false, relay.stunServers());
      Claimant claimant = new Claimant(session, core.link.publicKey(), core.tls.publicKey(), core.localCandidates(),
          Instant.now(), options.allowLoopbackCandidates());
      byte[] decisionKey = keys.decisionKey();
      record Answer(NodePublicKey from, Decision decision) {}
      CompletableFuture<Answer> answer = new CompletableFuture<>();
      core.link.onEnvelope((src, packet) -> {
        if (core.onControl(src, packet)) {
          return;
        }
        Optional<Envelope.Opened> opened = Envelope.open(decisionKey, session.sessionId(), packet);
        if (opened.isEmpty() || opened.get().kind() != EnvelopeKind.DECISION) {
          return;
        }
        try {
          Decision d = Decision.parse(opened.get().plaintext());
          if (MessageDigest.isEqual(d.claimNonce(), claimant.claim().nonce())) {
            answer.complete(new Answer(src, d));
          }
        } catch (ClaimException ignored) {
          // not an answer we can read: keep waiting
        }
      });
      core.link.watch(session.issuerDerpKey());
      core.link.onPeerGone((k, reason) -> {
        if (reason == PeerGoneReason.NOT_HERE) {
          answer.completeExceptionally(new SessionException("the server is not on the relay"));
        }
      });
      Answer a = await(core, session, claimant, wrap, answer, timeout);
      if (!a.decision().accepted()) {
        throw new Rejected(a.decision().rejectReason());
      }
      options.reporter().event("claimed", "");
      core.attach(a.from());
      core.startControl(keys, session.sessionId(), false, a.from(), a.decision().candidates());
      QuicChannel quic;
      try {
        quic = QuicTransport.connect(core.udp, core.path, core.tls, session.issuerTlsKey(), core.watch,
            new ChannelInboundHandlerAdapter()).get(ClaimedSession.HANDSHAKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new SessionException(core.reason("no encrypted connection to the server"), e);
      }
      core.quic = quic;
      options.reporter().event("quic-connected", core.pathDescription());
      return new TunnelClientLeg(core, quic);
    } catch (SessionException | InterruptedException | RuntimeException e) {
      core.close();
      throw e;
    }
  }

  private static <A> A await(SessionCore core, Token session, Claimant claimant, UnaryOperator<byte[]> wrap,
                             CompletableFuture<A> answer, Duration timeout) throws SessionException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Duration wait = ClaimedSession.FIRST_RESEND;
    while (true) {
      core.link.send(session.issuerDerpKey(), wrap.apply(claimant.sealedClaim()));
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SessionException("no answer from the server");
      }
      try {
        return answer.get(Math.min(wait.toNanos(), left), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        wait = wait.multipliedBy(2).compareTo(ClaimedSession.MAX_RESEND) > 0 ? ClaimedSession.MAX_RESEND : wait.multipliedBy(2);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof SessionException s ? s : new SessionException(e.getCause().getMessage(), e.getCause());
      }
    }
  }

  public QuicChannel connection() {
    return quic;
  }

  /** "via relay" or "via direct ADDRESS". */
  public String pathDescription() {
    return core.pathDescription();
  }
}
