package dev.derphole.session.tunnel;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.SessionException;
import dev.derphole.session.SessionOptions;
import dev.derphole.session.TunnelServerLeg;
import dev.derphole.session.rendezvous.RelayPicker;
import dev.derphole.session.rendezvous.SessionLink;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.channel.ChannelHandler;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code derptun serve}: waits on the relay under the server token's stable DERP key for as long
 * as it runs, and gives every authenticated client its own leg ({@link TunnelServerLeg}). Several
 * clients at once, each with as many TCP streams as it opens. The relay connection redials by
 * itself after any loss (same key, so clients find it again), and a restarted {@code serve} with
 * the same token is the same server to its clients.
 *
 * <p>Claims are handled on one thread of their own, not on the event loop, because starting a leg
 * waits for its relay connection.
 */
public final class TunnelServer implements AutoCloseable {
  private final ServerToken token;
  private final SessionOptions options;
  private final ChannelHandler streams;
  private final TunnelGate gate;
  private final RelayPicker.Choice relay;
  private final TlsIdentity tls;
  private final SessionLink link;
  private final ExecutorService claims = Executors.newSingleThreadExecutor(r -> daemon(r, "derptun-claims"));
  private final ScheduledExecutorService expiries = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "derptun-expiry"));
  private final Map<String, TunnelServerLeg> legs = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private TunnelServer(ServerToken token, SessionOptions options, ChannelHandler streams, RelayPicker.Choice relay) {
    this.token = token;
    this.options = options;
    this.streams = Keepalive.serverStreams(streams);
    this.gate = new TunnelGate(token, options.allowLoopbackCandidates());
    this.relay = relay;
    this.tls = token.tlsIdentity();
    this.link = new SessionLink(relay.endpoint(), token.derpKey(), options.group().next());
  }

  /**
   * Starts serving: every bidirectional stream a client opens is handed to {@code streams} (a
   * sharable handler, e.g. one that dials the target and bridges). Returns once the relay has
   * accepted us, or, if it cannot be reached within {@link SessionOptions#RELAY_TIMEOUT}, keeps
   * trying in the background and returns anyway.
   */
  public static TunnelServer start(ServerToken token, SessionOptions options, ChannelHandler streams)
      throws SessionException, InterruptedException {
    RelayPicker.Choice relay = RelayPicker.forClaimant(token.rendezvous(), options.maps(), options.customMap());
    options.reporter().event("relay", relay.label());
    TunnelServer s = new TunnelServer(token, options, streams, relay);
    s.link.onConnectionEvent(options.reporter()::event);
    s.link.onEnvelope((src, packet) -> s.claims.execute(() -> s.onClaim(src, packet)));
    try {
      s.link.start(SessionOptions.RELAY_TIMEOUT);
    } catch (IOException e) {
      options.reporter().event("relay-unreachable", "(" + e.getMessage() + "); still trying");
    }
    return s;
  }

  /** Clients connected now. */
  public int clients() {
    return (int) legs.values().stream().filter(l -> l.connected().isDone() && !l.connected().isCompletedExceptionally()).count();
  }

  private void onClaim(NodePublicKey source, byte[] packet) {
    if (closed) {
      return;
    }
    Instant now = Instant.now();
    TunnelGate.Outcome o = gate.onPacket(source, packet, now).orElse(null);
    if (o == null) {
      return;
    }
    String client = HexFormat.of().formatHex(o.clientSession().sessionId(), 0, 4);
    TunnelServerLeg existing = legs.get(o.identity());
    if (o.accepted().isEmpty()) {
      if (o.accept() && existing != null) {
        existing.resend(o.sealedDecision());
      } else {
        link.send(source, o.sealedDecision());
        if (!o.accept()) {
          options.reporter().event("client-refused", client);
        }
      }
      return;
    }
    TunnelServerLeg leg;
    try {
      leg = TunnelServerLeg.start(options, relay.endpoint(), relay.stunServers(), tls, o.clientSession(),
          o.accepted().get(), o.sealedDecision(), streams);
    } catch (SessionException e) {
      options.reporter().event("client-failed", client + " (" + e.getMessage() + ")");
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    legs.put(o.identity(), leg);
    options.reporter().event("client-claimed", client);
    leg.connected().thenAccept(q -> options.reporter().event("client-connected", client + " " + leg.pathDescription()
        + " (" + clients() + " connected)"));
    // Expiry is also enforced on connections that are up: none outlives its token.
    Instant end = o.clientSession().expires().isBefore(token.expires()) ? o.clientSession().expires() : token.expires();
    long delay = Math.max(0, Duration.between(Instant.now(), end).toMillis());
    var expiry = expiries.schedule(() -> {
      options.reporter().event("client-expired", client);
      leg.fail("the token expired");
      leg.close();
    }, delay, TimeUnit.MILLISECONDS);
    leg.closed().thenRun(() -> {
      expiry.cancel(false);
      legs.remove(o.identity(), leg);
      if (!closed) {
        options.reporter().event("client-disconnected", client + " (" + leg.reason("closed") + "; "
            + clients() + " connected)");
      }
    });
  }

  @Override
  public void close() {
    closed = true;
    claims.shutdownNow();
    expiries.shutdownNow();
    for (TunnelServerLeg leg : legs.values()) {
      leg.close();
    }
    link.close();
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
