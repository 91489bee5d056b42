package dev.derphole.transport.path;

import dev.derphole.derp.net.IpLiteral;
import dev.derphole.derp.stun.Stun;
import dev.derphole.transport.disco.DiscoPacket;
import dev.derphole.transport.disco.ReplayWindow;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Finds, keeps and drops the direct UDP path to the peer. It sits first on the session socket and
 * sorts what arrives: STUN answers, disco probes, and QUIC (passed on to {@link PeerPath}).
 *
 * <pre>
 *   RELAY ──valid pong from E──▶ DIRECT(E) ──nothing from E for 5 s──▶ RELAY (probing again)
 *                                   ├──a pong much faster than E's (or IPv6, as fast)──▶ DIRECT(E')
 *                                   └──E quiet and silent, E' answers──▶ DIRECT(E')  ({@link Failover})
 * </pre>
 *
 * Every remote candidate is probed at 0, 100, 200, 400 and 800 ms after it is learnt and then
 * every second while there is no direct path, so two endpoint-independent NATs open their
 * filters to each other within the first few probes. A ping from an address we did not know (the
 * peer's NAT mapping as seen from here) is answered and that address probed in turn. Only a pong
 * answering one of our own pings, from the address we pinged, with its counter, and saying a
 * plausible address for us, promotes a path. Runs on the socket's event loop.
 *
 * <p>Against a party on the path: a ping is answered only once and only while fresh ({@link
 * ReplayWindow}), so a captured ping replayed from elsewhere gets no pong and no candidate slot;
 * addresses learnt from pings have {@link #MAX_LEARNT} of the {@link #MAX_REMOTES} slots, the
 * stalest evicted first and any unheard for {@link #LEARNT_TTL} dropped, never the one in use; and
 * the path is alive only on authenticated words from the peer (a fresh ping, an answering pong, or
 * QUIC that the connection accepted: {@link PeerPath}), not on any datagram from its address.
 */
public final class DirectPath extends ChannelInboundHandlerAdapter {
  public static final Duration STALE = Duration.ofSeconds(5);
  static final Duration KEEPALIVE = Duration.ofSeconds(2);
  static final Duration TICK = Duration.ofMillis(50);
  /** STUN over UDP can be lost: until an answer comes, ask again this often, a few times. */
  static final Duration STUN_RETRY = Duration.ofMillis(500);
  static final int STUN_TRIES = 4;
  static final long[] PROBE_SCHEDULE_MS = {0, 100, 200, 400, 800};
  static final Duration PROBE_INTERVAL = Duration.ofSeconds(1);
  static final Duration REPROBE_WHILE_DIRECT = Duration.ofSeconds(5);
  static final int MAX_REMOTES = 48;
  /** Of those, addresses learnt from the peer's pings (not from its candidates). */
  static final int MAX_LEARNT = 16;
  /** A learnt address with no authenticated word from it for this long is forgotten. */
  static final Duration LEARNT_TTL = Duration.ofSeconds(30);
  static final double SWITCH_IF_FASTER = PathChoice.SWITCH_IF_FASTER;

  /** What the direct path tells the session. */
  public interface Listener {
    void onDirect(InetSocketAddress endpoint, Duration rtt, String why);

    void onRelay(String why);

    /** Our address as a STUN server saw it: a candidate for the peer. */
    default void onStunAddress(InetSocketAddress mapped) {}
  }

  private static final class Remote {
    final InetSocketAddress address;
    /** From one of the peer's pings, not from its candidates. */
    final boolean fromPing;
    long learnt;
    int probes;
    long lastPing;
    /** The last fresh ping or answering pong from it; when it was added if none yet. */
    long heard;

    Remote(InetSocketAddress address, long now, boolean fromPing) {
      this.address = address;
      this.fromPing = fromPing;
      this.learnt = now;
      this.heard = now;
    }
  }

  private record Pending(InetSocketAddress to, long sentAt, long counter) {}

  /** The socket's event loop: calls from other threads queue behind the handler being added. */
  private final io.netty.util.concurrent.EventExecutor loop;
  private final byte[] key;
  private final int role;
  private final PeerPath path;
  private final Listener listener;
  private final SecureRandom random = new SecureRandom();
  private final Map<InetSocketAddress, Remote> remotes = new LinkedHashMap<>();
  private final ReplayWindow replays = new ReplayWindow();
  private final LongSupplier clock;
  private final LongSupplier wallMicros;
  /** The counter of our last ping. */
  private long counter;
  /** Our address as the peer saw it on the path in use (its last pong there). */
  private volatile InetSocketAddress seenAs;
  private long refusedPings;
  private final Map<String, Pending> pending = new HashMap<>();
  private final Map<String, InetSocketAddress> stunPending = new HashMap<>();
  private final List<InetSocketAddress> stunServers = new ArrayList<>();
  private final java.util.Set<InetSocketAddress> stunSeen = new java.util.HashSet<>();
  private ChannelHandlerContext ctx;
  private ScheduledFuture<?> ticker;
  private InetSocketAddress current;
  private long currentRtt;
  private long lastReprobe;
  private final Failover failover = new Failover();
  private int stunTries;
  private long lastStun;
  private boolean closed;

  /**
   * @param key the session's disco key
   * @param role 0 for the issuer, 1 for the claimant: a probe carrying our own role is a reflection
   */
  public DirectPath(io.netty.util.concurrent.EventExecutor loop, byte[] key, int role, PeerPath path, Listener listener) {
    this(loop, key, role, path, listener, () -> System.currentTimeMillis() * 1000);
  }

  /** @param wallMicros the wall clock in microseconds (pings carry it), or a test's; time passes by {@code path}'s clock */
  DirectPath(io.netty.util.concurrent.EventExecutor loop, byte[] key, int role, PeerPath path, Listener listener,
             LongSupplier wallMicros) {
    this.clock = path::now;
    this.wallMicros = wallMicros;
    this.loop = loop;
    this.key = key.clone();
    this.role = role;
    this.path = path;
    this.listener = listener;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    ticker = ctx.executor().scheduleAtFixedRate(this::tick, TICK.toNanos(), TICK.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    closed = true;
    if (ticker != null) {
      ticker.cancel(false);
    }
  }

  /** Adds the peer's candidates (already checked against the candidate policy); probes new ones at once. */
  public void addRemotes(List<InetSocketAddress> candidates) {
    loop.execute(() -> {
      long now = clock.getAsLong();
      for (InetSocketAddress c : candidates) {
        if (!remotes.containsKey(c)) {
          addRemote(c, now, false);
        }
      }
      tick();
    });
  }

  /** Asks these STUN servers for our public address, from this very socket. */
  public void stun(List<InetSocketAddress> servers) {
    loop.execute(() -> {
      stunServers.addAll(servers);
      stunTries = 0;
      sendStun();
    });
  }

  /** The endpoint in use, or null on the relay. */
  public InetSocketAddress current() {
    return current;
  }

  /** Our address as the peer saw it over the path in use (from its pongs), or null. */
  public InetSocketAddress seenAs() {
    return seenAs;
  }

  /** Remote addresses held now (for tests; on the event loop). */
  int remoteCount() {
    return remotes.size();
  }

  /** Pings refused as replayed or stale (for tests; on the event loop). */
  long refusedPings() {
    return refusedPings;
  }

  /**
   * Adds a remote if there is a slot: a learnt one (from a ping) takes the stalest learnt one's
   * place when learnt ones are at {@link #MAX_LEARNT}; a candidate takes a learnt one's place
   * when all slots are taken. The path in use is never evicted. Null if there was no room.
   */
  private Remote addRemote(InetSocketAddress address, long now, boolean fromPing) {
    long learnt = remotes.values().stream().filter(r -> r.fromPing).count();
    if ((fromPing && learnt >= MAX_LEARNT) || remotes.size() >= MAX_REMOTES) {
      Remote stalest = null;
      for (Remote r : remotes.values()) {
        if (r.fromPing && !r.address.equals(current) && (stalest == null || r.heard < stalest.heard)) {
          stalest = r;
        }
      }
      if (stalest == null) {
        return null;
      }
      remotes.remove(stalest.address);
    }
    Remote r = new Remote(address, now, fromPing);
    remotes.put(address, r);
    return r;
  }

  private void sendStun() {
    for (InetSocketAddress server : stunServers) {
      byte[] tx = Stun.newTransactionId();
      stunPending.put(HexFormat.of().formatHex(tx), server);
      ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(Stun.bindingRequest(tx)), server));
    }
    stunTries++;
    lastStun = clock.getAsLong();
  }

  /** Every {@link #TICK} on the event loop (tests call it there too). */
  void tick() {
    if (closed) {
      return;
    }
    long now = clock.getAsLong();
    pending.values().removeIf(p -> now - p.sentAt() > STALE.toNanos());
    remotes.values().removeIf(r -> r.fromPing && !r.address.equals(current) && now - r.heard > LEARNT_TTL.toNanos());
    if (stunTries > 0 && stunTries < STUN_TRIES && stunSeen.isEmpty() && now - lastStun >= STUN_RETRY.toNanos()) {
      sendStun();
    }
    if (current != null) {
      Remote r = remotes.get(current);
      if (now - path.lastDirectIn() > STALE.toNanos()) { // the peer's QUIC and disco over it both count
        InetSocketAddress was = current;
        current = null;
        path.direct(null);
        for (Remote x : remotes.values()) {
          x.learnt = now;
          x.probes = 0;
        }
        listener.onRelay("nothing from " + IpLiteral.format(was) + " for " + STALE.toSeconds() + " s");
      } else if (r != null && now - r.lastPing > KEEPALIVE.toNanos()) {
        ping(r, now);
      }
      if (current != null && r != null) {
        switch (failover.tick(now, path.lastDirectIn(), r.heard, currentRtt)) {
          case PING_CURRENT -> ping(r, now);
          case PROBE_OTHERS -> {
            lastReprobe = now;
            remotes.values().stream().filter(x -> !x.address.equals(current)).forEach(x -> ping(x, now));
          }
          case NOTHING -> { }
        }
      }
      if (now - lastReprobe > REPROBE_WHILE_DIRECT.toNanos()) {
        lastReprobe = now;
        for (Remote x : remotes.values()) {
          if (!x.address.equals(current)) {
            ping(x, now);
          }
        }
      }
    }
    if (current == null) {
      for (Remote r : remotes.values()) {
        long due = r.probes < PROBE_SCHEDULE_MS.length
            ? r.learnt + PROBE_SCHEDULE_MS[r.probes] * 1_000_000L
            : r.lastPing + PROBE_INTERVAL.toNanos();
        if (now >= due) {
          ping(r, now);
        }
      }
    }
  }

  private void ping(Remote r, long now) {
    byte[] tx = new byte[DiscoPacket.TXID_LENGTH];
    random.nextBytes(tx);
    counter = Math.max(counter + 1, wallMicros.getAsLong());
    pending.put(HexFormat.of().formatHex(tx), new Pending(r.address, now, counter));
    r.probes++;
    r.lastPing = now;
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PING, role, tx, counter, Optional.empty()).encode(key);
    ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(bytes), r.address));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof DatagramPacket dp)) {
      ctx.fireChannelRead(msg);
      return;
    }
    ByteBuf content = dp.content();
    if (Stun.looksLikeStun(content)) {
      onStun(ByteBufUtil.getBytes(content));
      dp.release();
    } else if (DiscoPacket.looksLikeDisco(content)) {
      byte[] bytes = ByteBufUtil.getBytes(content);
      InetSocketAddress from = dp.sender();
      dp.release();
      DiscoPacket.decode(key, bytes).ifPresent(p -> onDisco(p, from));
    } else {
      ctx.fireChannelRead(dp); // QUIC: PeerPath decides whether it is the peer's
    }
  }

  private void onStun(byte[] packet) {
    Stun.parseBindingResponse(packet).ifPresent(r -> {
      InetSocketAddress server = stunPending.remove(HexFormat.of().formatHex(r.transactionId()));
      if (server != null && stunSeen.add(r.mappedAddress())) {
        listener.onStunAddress(r.mappedAddress());
      }
    });
  }

  private void onDisco(DiscoPacket p, InetSocketAddress from) {
    if (p.senderRole() == role) {
      return; // our own probe reflected back at us
    }
    long now = clock.getAsLong();
    if (p.kind() == DiscoPacket.Kind.PING) {
      if (!replays.accept(p.counter(), wallMicros.getAsLong())) {
        refusedPings++;
        return; // seen before, or not fresh: a replay, whoever sends it
      }
      if (from.equals(current)) {
        path.heardDirect();
      }
      byte[] pong = new DiscoPacket(DiscoPacket.Kind.PONG, role, p.txid(), p.counter(), Optional.of(from)).encode(key);
      ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(pong), from));
      Remote r = remotes.get(from);
      if (r != null) {
        r.heard = now;
      } else {
        // The peer as our side of the network sees it (its NAT's mapping): probe it too.
        r = addRemote(from, now, true);
        if (r != null) {
          ping(r, now);
        }
      }
      return;
    }
    String tx = HexFormat.of().formatHex(p.txid());
    Pending sent = pending.get(tx);
    if (sent == null || !sent.to().equals(from) || sent.counter() != p.counter()) {
      return; // not an answer to a ping of ours to that address
    }
    InetSocketAddress us = p.observed().orElse(null);
    if (!plausible(us)) {
      return; // an answer that cannot say where we are answers nothing
    }
    pending.remove(tx);
    if (from.equals(current)) {
      path.heardDirect();
    }
    Remote heard = remotes.get(from);
    if (heard != null) {
      heard.heard = now;
    }
    long rtt = now - sent.sentAt();
    path.trust(from);
    // Where the current path's peer sees us: differs from our socket's address behind a NAT, and
    // changes if the NAT rebinds us. Recorded before a promotion is announced, so that whoever hears
    // of it reads the address that goes with it.
    if (current == null) {
      seenAs = us;
      promote(from, rtt, "first answer to a probe");
    } else if (from.equals(current)) {
      currentRtt = rtt;
      seenAs = us;
    } else if (remotes.containsKey(current) && failover.seeking(now, remotes.get(current).heard, currentRtt)) {
      seenAs = us;
      promote(from, rtt, "no answer from " + IpLiteral.format(current));
    } else if (PathChoice.better(from, rtt, current, currentRtt)) {
      seenAs = us;
      promote(from, rtt, PathChoice.why(rtt, currentRtt) + IpLiteral.format(current));
    }
  }

  /** An address a pong may say we are at: a unicast address and a port. */
  static boolean plausible(InetSocketAddress a) {
    return a != null && a.getPort() != 0 && a.getAddress() != null && !a.getAddress().isAnyLocalAddress()
        && !a.getAddress().isMulticastAddress();
  }

  private void promote(InetSocketAddress to, long rtt, String why) {
    failover.reset();
    current = to;
    currentRtt = rtt;
    path.direct(to);
    listener.onDirect(to, Duration.ofNanos(rtt), why);
  }
}
