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
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code derptun serve}: waits on the relay under the server token's stable DERP key for as long
 * as it runs, and gives every authenticated client its own leg ({@link TunnelServerLeg}). Several
 * clients at once, each with as many TCP streams as it opens. The relay connection redials by
 * itself after any loss (same key, so clients find it again), and a restarted {@code serve} with
 * the same token is the same server to its clients.
 *
 * <p>Claims are handled on one thread of their own, not on the event loop, because starting a leg
 * waits for its relay connection.
 *
 * <p>Bounded against a client-token holder who claims in a loop (each fresh nonce is a new leg: a
 * relay connection, a UDP socket, a port mapping and threads, for up to 30 s if it never
 * connects): at most {@link Limits#legsPerClient} legs per client token and {@link Limits#legs} in
 * all, and at most {@link #MAX_QUEUED_CLAIMS} claims waiting for the claim thread. A claim over a
 * limit is dropped unanswered (an honest client claims afresh when its claim times out); drops are
 * counted and reported as one {@code claims-dropped} line per {@link #DROP_REPORT_INTERVAL}, so the
 * log does not grow with the flood.
 */
public final class TunnelServer implements AutoCloseable {
  /** Claims waiting for the claim thread; more are dropped. */
  public static final int MAX_QUEUED_CLAIMS = 64;
  /** Dropped claims are reported at most this often, as one line with the counts. */
  static final Duration DROP_REPORT_INTERVAL = Duration.ofSeconds(5);

  /**
   * How many legs (client connections, up or still waiting for their handshake) serve keeps.
   *
   * @param legsPerClient at once for one client token (a reconnecting client briefly has two)
   * @param legs at once in all
   */
  public record Limits(int legsPerClient, int legs) {
    public static final Limits DEFAULT = new Limits(8, 64);

    public Limits {
      if (legsPerClient < 1 || legs < 1) {
        throw new IllegalArgumentException("leg limits must be at least 1, got " + legsPerClient + " per client and "
            + legs + " in all");
      }
    }
  }

  /** Why a claim was dropped, for the report. */
  enum Drop {
    QUEUE_FULL("claim queue full"), CLIENT_LIMIT("client at its connection limit"), SERVER_LIMIT("server at its connection limit");

    final String label;

    Drop(String label) {
      this.label = label;
    }
  }

  private final ServerToken token;
  private final SessionOptions options;
  private final ChannelHandler streams;
  private final TunnelGate gate;
  private final RelayPicker.Choice relay;
  private final TlsIdentity tls;
  private final SessionLink link;
  private final Limits limits;
  /** Called with each client connection as it comes up, on its event loop (UDP forwarding). */
  private java.util.function.Consumer<io.netty.handler.codec.quic.QuicChannel> connections = q -> { };
  private final ArrayBlockingQueue<Runnable> claimQueue = new ArrayBlockingQueue<>(MAX_QUEUED_CLAIMS);
  private final ThreadPoolExecutor claims = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, claimQueue,
      r -> daemon(r, "derptun-claims"), (r, executor) -> {
        this.queueDrops.increment();
        drop(Drop.QUEUE_FULL);
      });
  private final ScheduledExecutorService expiries = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "derptun-expiry"));
  private final Map<String, TunnelServerLeg> legs = new ConcurrentHashMap<>();
  /** Legs per client session id (hex), started or starting; guarded by itself. */
  private final Map<String, Integer> legsPerClient = new HashMap<>();
  private int legCount;
  private int peakLegs;
  private final LongAdder claimsSeen = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder queueDrops = new LongAdder();
  /** Drops since the last report, by {@link Drop}. */
  private final AtomicLongArray burst = new AtomicLongArray(Drop.values().length);
  private final AtomicBoolean reportDue = new AtomicBoolean();
  private volatile boolean closed;

  private TunnelServer(ServerToken token, SessionOptions options, ChannelHandler streams, RelayPicker.Choice relay,
                       Limits limits) {
    this.token = token;
    this.options = options;
    this.limits = limits;
    this.streams = Keepalive.serverStreams(streams);
    this.gate = new TunnelGate(token, options.allowLoopbackCandidates());
    this.relay = relay;
    this.tls = token.tlsIdentity();
    this.link = new SessionLink(relay.nodes(), token.derpKey(), options.group().next()); // first node that answers, in map order
  }

  /**
   * Starts serving: every bidirectional stream a client opens is handed to {@code streams} (a
   * sharable handler, e.g. one that dials the target and bridges). Returns once the relay has
   * accepted us, or, if it cannot be reached within {@link SessionOptions#RELAY_TIMEOUT}, keeps
   * trying in the background and returns anyway.
   */
  public static TunnelServer start(ServerToken token, SessionOptions options, ChannelHandler streams)
      throws SessionException, InterruptedException {
    return start(token, options, streams, Limits.DEFAULT);
  }

  /** As {@link #start(ServerToken, SessionOptions, ChannelHandler)}, with these leg limits. */
  public static TunnelServer start(ServerToken token, SessionOptions options, ChannelHandler streams, Limits limits)
      throws SessionException, InterruptedException {
    return start(token, options, streams, limits, q -> { });
  }

  private TunnelServer begin() throws InterruptedException {
    TunnelServer s = this;
    s.link.onConnectionEvent(options.reporter()::event);
    s.link.onEnvelope((src, packet) -> {
      s.claimsSeen.increment();
      s.claims.execute(() -> s.onClaim(src, packet));
    });
    try {
      s.link.start(SessionOptions.RELAY_TIMEOUT);
    } catch (IOException e) {
      options.reporter().event("relay-unreachable", "(" + e.getMessage() + "); still trying");
    }
    return s;
  }

  /**
   * As {@link #start(ServerToken, SessionOptions, ChannelHandler, Limits)}, also handing each client
   * connection to {@code connections} the moment it is up, before anything it carries is read.
   */
  public static TunnelServer start(ServerToken token, SessionOptions options, ChannelHandler streams, Limits limits,
                                   java.util.function.Consumer<io.netty.handler.codec.quic.QuicChannel> connections)
      throws SessionException, InterruptedException {
    RelayPicker.Choice relay = RelayPicker.forClaimant(token.rendezvous(), options.maps(), options.customMap());
    options.reporter().event("relay", relay.label());
    TunnelServer s = new TunnelServer(token, options, streams, relay, limits);
    s.connections = connections;
    return s.begin();
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
      if (!o.accept()) {
        link.send(source, o.sealedDecision());
        options.reporter().event("client-refused", client);
      } else if (existing != null) {
        existing.resend(o.sealedDecision());
      }
      // An accepted claim without a leg (dropped at a limit, failed, or closed) gets no answer: an
      // accept from this key would point the client at a QUIC server that is not there.
      return;
    }
    String clientKey = HexFormat.of().formatHex(o.clientSession().sessionId());
    Drop over = reserveLeg(clientKey);
    if (over != null) {
      drop(over);
      return;
    }
    TunnelServerLeg leg;
    try {
      leg = TunnelServerLeg.start(options, relay.nodes(), relay.stunServers(), tls, o.clientSession(),
          o.accepted().get(), o.sealedDecision(), streams);
    } catch (SessionException e) {
      releaseLeg(clientKey);
      options.reporter().event("client-failed", client + " (" + e.getMessage() + ")");
      return;
    } catch (InterruptedException e) {
      releaseLeg(clientKey);
      Thread.currentThread().interrupt();
      return;
    } catch (RuntimeException e) {
      releaseLeg(clientKey);
      throw e;
    }
    legs.put(o.identity(), leg);
    leg.connected().thenAccept(connections);
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
      releaseLeg(clientKey);
      if (!closed) {
        options.reporter().event("client-disconnected", client + " (" + leg.reason("closed") + "; "
            + clients() + " connected)");
      }
    });
  }

  /** Counts a leg for {@code clientKey} if both limits allow it; else says which limit is reached. */
  private Drop reserveLeg(String clientKey) {
    synchronized (legsPerClient) {
      if (legCount >= limits.legs()) {
        return Drop.SERVER_LIMIT;
      }
      int mine = legsPerClient.getOrDefault(clientKey, 0);
      if (mine >= limits.legsPerClient()) {
        return Drop.CLIENT_LIMIT;
      }
      legsPerClient.put(clientKey, mine + 1);
      legCount++;
      peakLegs = Math.max(peakLegs, legCount);
      return null;
    }
  }

  private void releaseLeg(String clientKey) {
    synchronized (legsPerClient) {
      legsPerClient.computeIfPresent(clientKey, (k, n) -> n > 1 ? n - 1 : null);
      legCount--;
    }
  }

  /** Counts a dropped claim; the first drop of a burst schedules the one report for it. */
  private void drop(Drop why) {
    if (closed) {
      return;
    }
    dropped.increment();
    burst.incrementAndGet(why.ordinal());
    if (reportDue.compareAndSet(false, true)) {
      try {
        expiries.schedule(this::reportDrops, DROP_REPORT_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closing
      }
    }
  }

  private void reportDrops() {
    reportDue.set(false);
    StringBuilder why = new StringBuilder();
    long total = 0;
    for (Drop d : Drop.values()) {
      long n = burst.getAndSet(d.ordinal(), 0);
      if (n > 0) {
        why.append(why.length() == 0 ? "" : ", ").append(d.label).append(": ").append(n);
        total += n;
      }
    }
    if (total > 0) {
      options.reporter().event("claims-dropped", total + " in the last " + DROP_REPORT_INTERVAL.toSeconds() + " s (" + why
          + "; limits: " + limits.legsPerClient() + " per client, " + limits.legs() + " in all, "
          + MAX_QUEUED_CLAIMS + " queued)");
    }
  }

  /** Legs now, started or starting (for tests). */
  int legs() {
    synchronized (legsPerClient) {
      return legCount;
    }
  }

  /** The most legs there have been at once (for tests). */
  int peakLegs() {
    synchronized (legsPerClient) {
      return peakLegs;
    }
  }

  /** Claims waiting for the claim thread now (for tests). */
  int queuedClaims() {
    return claimQueue.size();
  }

  /** Packets that reached the server's stable key, and of them, claims dropped at a limit (for tests). */
  long claimsSeen() {
    return claimsSeen.sum();
  }

  long droppedClaims() {
    return dropped.sum();
  }

  /** Packets that reached the stable key and are not dealt with yet: queued, or on the claim thread. */
  long claimsPending() {
    return claimsSeen.sum() - queueDrops.sum() - claims.getCompletedTaskCount();
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
