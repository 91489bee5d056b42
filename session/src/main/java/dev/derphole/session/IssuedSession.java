package dev.derphole.session;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.claim.Claim;
import dev.derphole.session.claim.ClaimGate;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.rendezvous.RelayPicker;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import dev.derphole.transport.quic.QuicTransport;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicChannel;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The issuer's end (listen, send, share, ssh invite): picks a relay, issues a token, waits for a
 * claim, and serves QUIC to the one claimant it accepted.
 *
 * <pre>
 *   WAITING_FOR_CLAIM ──valid claim──▶ CLAIMED ──QUIC handshake with the pinned claimant──▶ CONNECTED
 * </pre>
 *
 * Claims that do not authenticate are ignored without an answer; authenticated ones that cannot be
 * accepted get a sealed reject ("session already claimed", "expired", …).
 */
public final class IssuedSession extends SessionSide {
  enum State { WAITING_FOR_CLAIM, CLAIMED, CONNECTED, CLOSED }

  /** How long a claimant that was accepted has to complete the QUIC handshake. */
  static final java.time.Duration CONNECT_AFTER_CLAIM = java.time.Duration.ofSeconds(30);

  private final Token token;
  private final ClaimGate gate;
  private final ChannelHandler streamHandler;
  private final CompletableFuture<QuicChannel> connected = new CompletableFuture<>();
  private volatile State state = State.WAITING_FOR_CLAIM;

  private IssuedSession(SessionCore core, Token token, ChannelHandler streamHandler) {
    super(core);
    this.token = token;
    this.gate = new ClaimGate(token, true, core::localCandidates, core.options.allowLoopbackCandidates());
    this.streamHandler = streamHandler;
    core.link.onEnvelope(this::onEnvelope);
  }

  public static IssuedSession open(Capability capability, SessionOptions options, ChannelHandler streamHandler)
      throws SessionException, InterruptedException {
    return open(capability, options, streamHandler, 1);
  }

  /** As {@link #open(Capability, SessionOptions, ChannelHandler)}, allowing up to {@code maxLanes} direct lanes. */
  public static IssuedSession open(Capability capability, SessionOptions options, ChannelHandler streamHandler, int maxLanes)
      throws SessionException, InterruptedException {
    RelayPicker.Choice relay = RelayPicker.forIssuer(options.maps().load(), options.customMap(), RelayPicker.PROBE_BUDGET);
    options.reporter().event("relay", relay.label());
    SessionCore core = new SessionCore(options, relay.nodes());
    Token token = Token.issue(capability, core.link.publicKey(), core.tls.publicKey(), relay.hint(), Instant.now());
    core.startDirect(SessionKeys.of(token), true, relay.stunServers());
    IssuedSession s = new IssuedSession(core, token, streamHandler);
    s.gate.offerLanes(options.forceRelay() ? 1 : maxLanes);
    return s;
  }

  public Token token() {
    return token;
  }

  private synchronized void onEnvelope(NodePublicKey source, byte[] packet) {
    if (state == State.CLOSED || core.onControl(source, packet)) {
      return;
    }
    Optional<ClaimGate.Outcome> outcome = gate.onPacket(source, packet, Instant.now());
    if (outcome.isEmpty()) {
      return;
    }
    Optional<Claim> accepted = outcome.get().accepted();
    if (accepted.isPresent()) {
      state = State.CLAIMED;
      core.options.reporter().event("claimed", "");
      core.attach(source);
      QuicTransport.serve(core.udp, core.tls, accepted.get().claimantTlsKey(), new Connected(), streamHandler);
      core.link.send(source, outcome.get().sealedDecision());
      core.startControl(SessionKeys.of(token), token.sessionId(), true, source, accepted.get().candidates());
      core.startLanes(gate.agreedLanes(), true, SessionKeys.of(token), accepted.get().claimantTlsKey());
      core.udp.eventLoop().schedule(() -> connected.completeExceptionally(new SessionException(
          "the other side claimed the session but never connected")), CONNECT_AFTER_CLAIM.toSeconds(), TimeUnit.SECONDS);
      return;
    }
    core.link.send(source, outcome.get().sealedDecision());
  }

  /** Marks the connection up once QUIC's handshake with the pinned claimant completes. */
  private final class Connected extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      QuicChannel q = (QuicChannel) ctx.channel();
      q.pipeline().addLast(core.watch);
      core.quic = q;
      state = State.CONNECTED;
      core.options.reporter().event("quic-connected", core.pathDescription());
      connected.complete(q);
      ctx.fireChannelActive();
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  /** Waits for the claimant's QUIC connection. */
  public QuicChannel awaitConnection() throws SessionException, InterruptedException {
    try {
      return connected.get();
    } catch (ExecutionException e) {
      throw new SessionException(e.getCause().getMessage(), e.getCause());
    }
  }

  @Override
  public void close() {
    state = State.CLOSED;
    connected.completeExceptionally(new SessionException("session closed"));
    super.close();
  }
}
