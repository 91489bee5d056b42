package dev.derphole.session;

import dev.derphole.derp.client.RegionNodes;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.claim.Claim;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.token.Token;
import dev.derphole.transport.quic.QuicTransport;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicChannel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The server's end of one derptun client connection, for a claim that the tunnel's multi-claim
 * gate accepted on the server's stable DERP key. Each leg has its own DERP key, UDP socket and
 * QUIC server (pinned to the claimant's TLS key) but the server's stable TLS identity, so one
 * {@code derptun serve} can carry several clients at once. The accept is sent from the leg's DERP
 * key: that is where the client sends its QUIC packets.
 *
 * <pre>
 *   accepted ──QUIC handshake──▶ CONNECTED ──connection ends──▶ CLOSED
 *      └──no handshake within 30 s──▶ CLOSED
 * </pre>
 */
public final class TunnelServerLeg extends SessionSide {
  /** After PeerGone, how long the client has to show life: long enough for both to redial a restarted relay. */
  public static final long PEER_GONE_GRACE_SECONDS = 15;

  private final NodePublicKey claimant;
  private final CompletableFuture<QuicChannel> connected = new CompletableFuture<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();

  private TunnelServerLeg(SessionCore core, NodePublicKey claimant) {
    super(core);
    this.claimant = claimant;
  }

  /**
   * Starts a leg for an accepted claim: reaches the relay (the region's first node that answers, in
   * map order) under a fresh DERP key, installs the QUIC server, then sends {@code sealedDecision}
   * to the claimant. Blocks while it reaches the relay.
   */
  public static TunnelServerLeg start(SessionOptions options, RegionNodes relay, List<InetSocketAddress> stun,
                                      TlsIdentity tls, Token clientSession, Claim claim, byte[] sealedDecision,
                                      ChannelHandler streamHandler) throws SessionException, InterruptedException {
    SessionCore core = new SessionCore(options, relay, NodePrivateKey.generate(), tls);
    core.peerGoneGraceSeconds = PEER_GONE_GRACE_SECONDS;
    TunnelServerLeg leg = new TunnelServerLeg(core, claim.claimantDerpKey());
    try {
      SessionKeys keys = SessionKeys.of(clientSession);
      core.startDirect(keys, true, stun);
      core.link.onEnvelope(core::onControl);
      core.attach(claim.claimantDerpKey());
      QuicTransport.serve(core.udp, core.tls, claim.claimantTlsKey(), leg.new Connected(), streamHandler);
      core.link.send(claim.claimantDerpKey(), sealedDecision);
      core.startControl(keys, clientSession.sessionId(), true, claim.claimantDerpKey(), claim.candidates());
      core.udp.eventLoop().schedule(() -> {
        if (!leg.connected.isDone()) {
          leg.connected.completeExceptionally(new SessionException("the client was accepted but never connected"));
          leg.closeInBackground();
        }
      }, IssuedSession.CONNECT_AFTER_CLAIM.toSeconds(), TimeUnit.SECONDS);
      return leg;
    } catch (RuntimeException e) {
      core.close();
      throw e;
    }
  }

  /** The claimant retried (its accept was lost): send the same accept again. */
  public void resend(byte[] sealedDecision) {
    core.link.send(claimant, sealedDecision);
  }

  /** Completes when the QUIC connection is up. */
  public CompletableFuture<QuicChannel> connected() {
    return connected;
  }

  /** Completes when the leg has closed, for whatever reason. */
  public CompletableFuture<Void> closed() {
    return closed;
  }

  /** "via relay" or "via direct ADDRESS". */
  public String pathDescription() {
    return core.pathDescription();
  }

  private void closeInBackground() {
    Thread t = new Thread(this::close, "derptun-leg-close");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() {
    try {
      connected.completeExceptionally(new SessionException("closed"));
      super.close();
    } finally {
      closed.complete(null);
    }
  }

  /** Marks the leg connected when the pinned claimant completes the handshake, and closes it when the connection ends. */
  private final class Connected extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      QuicChannel q = (QuicChannel) ctx.channel();
      q.pipeline().addLast(core.watch);
      core.quic = q;
      q.closeFuture().addListener(f -> closeInBackground());
      connected.complete(q);
      ctx.fireChannelActive();
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }
}
