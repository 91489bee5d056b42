package dev.derphole.transport.path;

import dev.derphole.derp.net.IpLiteral;
import dev.derphole.derp.stun.Stun;
import dev.derphole.transport.disco.DiscoPacket;
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

/**
 * Finds, keeps and drops the direct UDP path to the peer. It sits first on the session socket and
 * sorts what arrives: STUN answers, disco probes, and QUIC (passed on to {@link PeerPath}).
 *
 * <pre>
 *   RELAY ──valid pong from E──▶ DIRECT(E) ──nothing from E for 5 s──▶ RELAY (probing again)
 *                                   └──a pong much faster than E's──▶ DIRECT(E')
 * </pre>
 *
 * Every remote candidate is probed at 0, 100, 200, 400 and 800 ms after it is learnt and then
 * every second while there is no direct path, so two endpoint-independent NATs open their
 * filters to each other within the first few probes. A ping from an address we did not know (the
 * peer's NAT mapping as seen from here) is answered and that address probed in turn. Only a pong
 * answering one of our own pings, from the address we pinged, promotes a path. Runs on the
 * socket's event loop.
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
  static final double SWITCH_IF_FASTER = 0.7;

  /** What the direct path tells the session. */
  public interface Listener {
    void onDirect(InetSocketAddress endpoint, Duration rtt, String why);

    void onRelay(String why);

    /** Our address as a STUN server saw it: a candidate for the peer. */
    default void onStunAddress(InetSocketAddress mapped) {}
  }

  private static final class Remote {
    final InetSocketAddress address;
    long learnt;
    int probes;
    long lastPing;

    Remote(InetSocketAddress address, long now) {
      this.address = address;
      this.learnt = now;
    }
  }

  private record Pending(InetSocketAddress to, long sentAt) {}

  /** The socket's event loop: calls from other threads queue behind the handler being added. */
  private final io.netty.util.concurrent.EventExecutor loop;
  private final byte[] key;
  private final int role;
  private final PeerPath path;
  private final Listener listener;
  private final SecureRandom random = new SecureRandom();
  private final Map<InetSocketAddress, Remote> remotes = new LinkedHashMap<>();
  private final Map<String, Pending> pending = new HashMap<>();
  private final Map<String, InetSocketAddress> stunPending = new HashMap<>();
  private final List<InetSocketAddress> stunServers = new ArrayList<>();
  private final java.util.Set<InetSocketAddress> stunSeen = new java.util.HashSet<>();
  private ChannelHandlerContext ctx;
  private ScheduledFuture<?> ticker;
  private InetSocketAddress current;
  private long currentRtt;
  private long lastReprobe;
  private int stunTries;
  private long lastStun;
  private boolean closed;

  /**
   * @param key the session's disco key
   * @param role 0 for the issuer, 1 for the claimant: a probe carrying our own role is a reflection
   */
  public DirectPath(io.netty.util.concurrent.EventExecutor loop, byte[] key, int role, PeerPath path, Listener listener) {
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
      long now = System.nanoTime();
      for (InetSocketAddress c : candidates) {
        if (remotes.size() >= MAX_REMOTES) {
          break;
        }
        remotes.computeIfAbsent(c, a -> new Remote(a, now));
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

  private void sendStun() {
    for (InetSocketAddress server : stunServers) {
      byte[] tx = Stun.newTransactionId();
      stunPending.put(HexFormat.of().formatHex(tx), server);
      ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(Stun.bindingRequest(tx)), server));
    }
    stunTries++;
    lastStun = System.nanoTime();
  }

  private void tick() {
    if (closed) {
      return;
    }
    long now = System.nanoTime();
    pending.values().removeIf(p -> now - p.sentAt() > STALE.toNanos());
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
    pending.put(HexFormat.of().formatHex(tx), new Pending(r.address, now));
    r.probes++;
    r.lastPing = now;
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PING, role, tx, Optional.empty()).encode(key);
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
    long now = System.nanoTime();
    if (from.equals(current)) {
      path.heardDirect();
    }
    if (p.kind() == DiscoPacket.Kind.PING) {
      byte[] pong = new DiscoPacket(DiscoPacket.Kind.PONG, role, p.txid(), Optional.of(from)).encode(key);
      ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(pong), from));
      Remote r = remotes.get(from);
      if (r == null && remotes.size() < MAX_REMOTES) {
        // The peer as our side of the network sees it (its NAT's mapping): probe it too.
        r = new Remote(from, now);
        remotes.put(from, r);
        ping(r, now);
      }
      return;
    }
    Pending sent = pending.remove(HexFormat.of().formatHex(p.txid()));
    if (sent == null || !sent.to().equals(from)) {
      return; // not an answer to a ping of ours to that address
    }
    long rtt = now - sent.sentAt();
    path.trust(from);
    if (current == null) {
      promote(from, rtt, "first answer to a probe");
    } else if (from.equals(current)) {
      currentRtt = rtt;
    } else if (rtt < currentRtt * SWITCH_IF_FASTER) {
      promote(from, rtt, "faster than " + current);
    }
  }

  private void promote(InetSocketAddress to, long rtt, String why) {
    current = to;
    currentRtt = rtt;
    path.direct(to);
    listener.onDirect(to, Duration.ofNanos(rtt), why);
  }
}
