package dev.derphole.derp.server;

import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.frame.RawForwardPacket;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The relays of one region, as Tailscale's derpers mesh: every relay dials every other as a client
 * holding the region's mesh key and sends WatchConns; the watched relay answers with PeerPresent
 * for each of its clients, then PeerPresent/PeerGone as they come and go. A packet for a key that
 * is not here but was last seen on a peer goes there in one ForwardPacket (never further).
 *
 * <pre>
 *   alice ─SendPacket(bob)─▶ relay 1 ─ForwardPacket(alice, bob)─▶ relay 2 ─RecvPacket(alice)─▶ bob
 *                              ▲                                    │
 *                              └──── PeerPresent(bob) / PeerGone ◀──┘  (relay 1 watches relay 2)
 * </pre>
 *
 * A key seen on two relays (it moved) is routed to where it was seen last; a PeerGone from a relay
 * that no longer holds the route changes nothing. When a key leaves the region (gone here and on
 * every peer, or its relay's mesh connection broke), the clients here that exchanged packets with
 * it get PeerGone(Disconnected).
 */
final class Mesh implements AutoCloseable {
  /**
   * A peer's queue holds this many clients' worth: one mesh connection carries the traffic of every
   * pair split across two relays, which locally would have a queue per receiver. With one client's
   * worth, bench/relay-mesh.sh lost 17 % of 10 k packets/s on a loaded machine, all of it here.
   */
  static final int PEER_QUEUE_FACTOR = 8;

  private final DerpServer server;
  private final byte[] key;
  private final List<MeshPeer> peers = new java.util.concurrent.CopyOnWriteArrayList<>();
  private EventLoopGroup group;
  /** Where each key that is not ours was last seen. */
  private final ConcurrentHashMap<NodePublicKey, MeshPeer> routes = new ConcurrentHashMap<>();
  /**
   * Moves after every change of {@link #routes}, so a sender may keep where its last packet went
   * (and that it noted the pair in {@link #talkers}) until it moves: the common case then does no
   * map lookup and allocates no key, as for a destination on this relay.
   */
  private final java.util.concurrent.atomic.AtomicInteger version = new java.util.concurrent.atomic.AtomicInteger();
  /** Clients here that exchanged packets with a key on a peer: told PeerGone when it leaves the region. */
  private final ConcurrentHashMap<NodePublicKey, Set<NodePublicKey>> talkers = new ConcurrentHashMap<>();
  private final Set<Watcher> watchers = new CopyOnWriteArraySet<>();
  /** Orders a watcher's first snapshot against the arrivals and departures around it. */
  private final Object presence = new Object();

  Mesh(DerpServer server) {
    this.server = server;
    this.key = server.config.meshKey.isEmpty() ? null : server.config.meshKey.getBytes(StandardCharsets.US_ASCII);
  }

  /** Dials every configured peer, and keeps dialing, on {@code group}. */
  void start(EventLoopGroup group) {
    this.group = group;
    for (DerpEndpoint endpoint : server.config.meshWith) {
      add(endpoint);
    }
  }

  /** Dials one more peer, and keeps dialing it until the server closes. */
  void add(DerpEndpoint endpoint) {
    if (key == null) {
      throw new IllegalStateException("a relay without a mesh key has no mesh peers");
    }
    MeshPeer p = new MeshPeer(this, endpoint, server.config.privateKey(), server.config.meshKey, group,
        server.config.queuePackets * PEER_QUEUE_FACTOR, server.config.queueBytes * PEER_QUEUE_FACTOR,
        server.config.meshPauseLimit);
    peers.add(p);
    p.start();
  }

  ServerMetrics metrics() {
    return server.metrics;
  }

  /** Whether {@code hex} is this region's mesh key, compared in constant time. */
  boolean admits(String hex) {
    if (key == null) {
      return false;
    }
    return MessageDigest.isEqual(key, hex.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
  }

  /** Whether {@code k} is connected somewhere else in the region, as far as the peers told us. */
  boolean elsewhere(NodePublicKey k) {
    return routes.containsKey(k);
  }

  /** The peer {@code k} was last seen on, or null. */
  MeshPeer routeOf(NodePublicKey k) {
    return routes.get(k);
  }

  // ---------------------------------------------------------------- packets

  /** Read it before a {@link #routeOf}: an answer (and a {@link #noteTalker}) stays current while it is unchanged. */
  int version() {
    return version.get();
  }

  /** A mesh peer's frame: true when it was one (WatchConns, ClosePeer) and was handled. */
  boolean onMeshFrame(ClientConnection conn, Frame frame) {
    if (frame instanceof Frame.WatchConns) {
      watch(conn);
    } else if (frame instanceof Frame.ClosePeer c) {
      ClientConnection victim = server.registry.get(c.peer());
      if (victim != null && !victim.isMeshPeer()) {
        victim.channel().close();
      }
    } else {
      return false;
    }
    return true;
  }

  /**
   * A packet a peer forwarded: to its destination's queue here, its frame rewritten into a
   * RecvPacket in place. The destination remembers the last source it noted, so a steady pair
   * costs one map lookup per packet (the destination) and no other.
   */
  void deliver(RawForwardPacket f) {
    NodePublicKey to = f.destination();
    ClientConnection dst = server.registry.get(to);
    if (dst == null) {
      f.release();
      server.metrics.droppedMeshUnknownDestination.increment();
      return;
    }
    int v = version.get();
    ClientConnection.Noted noted = dst.lastMeshSource;
    if (noted == null || noted.version() != v || !f.sourceIs(noted.key())) {
      NodePublicKey from = f.source();
      noteTalker(from, to);
      dst.lastMeshSource = new ClientConnection.Noted(from.raw(), v);
    }
    int length = f.packetLength();
    if (dst.enqueue(f.toRecvPacket())) {
      server.metrics.meshForwardedFromPeers.increment();
      server.metrics.packetsForwarded.increment();
      server.metrics.bytesForwarded.add(length);
    }
  }

  void noteTalker(NodePublicKey remote, NodePublicKey local) {
    Set<NodePublicKey> s = talkers.get(remote);
    if (s == null) {
      s = talkers.computeIfAbsent(remote, k -> ConcurrentHashMap.newKeySet());
    }
    s.add(local);
  }

  // ---------------------------------------------------------------- what the peers tell us

  void peerPresent(MeshPeer from, NodePublicKey k) {
    if (routes.put(k, from) != from) { // seen last here: a key that moved goes where it went
      version.incrementAndGet();
    }
  }

  void peerGone(MeshPeer from, NodePublicKey k) {
    if (routes.remove(k, from)) {
      version.incrementAndGet();
      leftRegionUnlessHere(k);
    }
  }

  /** {@code from}'s connection broke: every key it held is gone, unless seen elsewhere since. */
  void peerDown(MeshPeer from) {
    for (Map.Entry<NodePublicKey, MeshPeer> e : routes.entrySet()) {
      if (e.getValue() == from && routes.remove(e.getKey(), from)) {
        version.incrementAndGet();
        leftRegionUnlessHere(e.getKey());
      }
    }
  }

  private void leftRegionUnlessHere(NodePublicKey k) {
    if (server.registry.get(k) != null || routes.containsKey(k)) {
      return;
    }
    Set<NodePublicKey> told = talkers.remove(k);
    if (told == null) {
      return;
    }
    Frame.PeerGone gone = new Frame.PeerGone(k, PeerGoneReason.DISCONNECTED);
    for (NodePublicKey local : told) {
      ClientConnection c = server.registry.get(local);
      if (c != null) {
        c.enqueue(gone);
      }
    }
  }

  // ---------------------------------------------------------------- what we tell the peers

  /** A client registered here: every watcher hears PeerPresent. */
  void localPresent(ClientConnection c) {
    if (watchers.isEmpty()) {
      return;
    }
    synchronized (presence) {
      Frame f = present(c);
      for (Watcher w : watchers) {
        w.offer(c.key(), f);
      }
    }
  }

  /** The last connection of a key here went: every watcher hears PeerGone. */
  void localGone(NodePublicKey k) {
    if (watchers.isEmpty()) {
      return;
    }
    synchronized (presence) {
      Frame f = new Frame.PeerGone(k, PeerGoneReason.DISCONNECTED);
      for (Watcher w : watchers) {
        w.offer(k, f);
      }
    }
  }

  private void watch(ClientConnection conn) {
    Watcher w = new Watcher(conn.channel());
    synchronized (presence) {
      if (!watchers.add(w)) {
        return;
      }
      for (ClientConnection c : server.registry.all()) {
        w.offer(c.key(), present(c));
      }
    }
    conn.channel().closeFuture().addListener(x -> watchers.remove(w));
  }

  private static Frame present(ClientConnection c) {
    Channel ch = c.channel();
    InetSocketAddress from = ch.remoteAddress() instanceof InetSocketAddress a ? a : null;
    int flags = c.isMeshPeer() ? Frame.PeerPresent.FLAG_MESH_PEER : Frame.PeerPresent.FLAG_REGULAR;
    return new Frame.PeerPresent(c.key(), Optional.ofNullable(from), flags);
  }

  @Override
  public void close() {
    for (MeshPeer p : peers) {
      p.close();
    }
  }

  /**
   * One mesh peer's WatchConns subscription. Changes wait in a map keyed by client, so a key that
   * comes and goes before the peer reads leaves only its last state: what waits is bounded by the
   * number of clients, however often they reconnect. Written on the watcher's own event loop.
   */
  private static final class Watcher {
    private final Channel channel;
    private final Map<NodePublicKey, Frame> pending = new LinkedHashMap<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    Watcher(Channel channel) {
      this.channel = channel;
    }

    void offer(NodePublicKey k, Frame f) {
      synchronized (pending) {
        pending.remove(k);
        pending.put(k, f);
      }
      if (scheduled.compareAndSet(false, true)) {
        channel.eventLoop().execute(this::flush);
      }
    }

    private void flush() {
      scheduled.set(false);
      List<Frame> batch;
      synchronized (pending) {
        batch = new ArrayList<>(pending.values());
        pending.clear();
      }
      if (!channel.isActive()) {
        return;
      }
      for (Frame f : batch) {
        channel.write(f, channel.voidPromise());
      }
      channel.flush();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Watcher w && w.channel == channel;
    }

    @Override
    public int hashCode() {
      return channel.hashCode();
    }
  }
}
