package dev.derphole.derp.server;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.client.ReconnectingDerpClient;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * This relay's connection to one other relay of the region: a DERP client holding the mesh key
 * that sends WatchConns, learns where keys are from PeerPresent/PeerGone, and carries ForwardPacket.
 * {@link ReconnectingDerpClient} redials it with backoff whenever it drops; a drop forgets every
 * key learned through it.
 */
final class MeshPeer implements DerpClientListener, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MeshPeer.class.getName());

  private final Mesh mesh;
  private final DerpEndpoint endpoint;
  private final NodePublicKey self;
  private final ReconnectingDerpClient client;
  private volatile DerpClient current;
  /** ForwardPacket frames waiting for the peer connection's loop: bounded as a client's queue is. */
  private final java.util.Queue<ByteBuf> queue;
  private final java.util.concurrent.atomic.AtomicLong queuedBytes = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicBoolean drainScheduled = new java.util.concurrent.atomic.AtomicBoolean();
  private final long maxQueuedBytes;

  MeshPeer(Mesh mesh, DerpEndpoint endpoint, NodePrivateKey key, String meshKey, EventLoopGroup group,
           int queuePackets, long queueBytes) {
    this.mesh = mesh;
    this.queue = io.netty.util.internal.PlatformDependent.newFixedMpscQueue(queuePackets);
    this.maxQueuedBytes = queueBytes;
    this.endpoint = endpoint;
    this.self = key.publicKey();
    this.client = new ReconnectingDerpClient(endpoint, key, this, group, DerpClient.Options.defaults().withMeshKey(meshKey));
  }

  DerpEndpoint endpoint() {
    return endpoint;
  }

  void start() {
    client.start();
  }

  /**
   * Queues a ready ForwardPacket frame for the peer (owned from here on), from any thread: dropped
   * and counted while the peer is down or its queue is full ({@link Mesh#PEER_QUEUE_FACTOR} clients'
   * worth of packets and bytes). The queue drains on the connection's loop in batches, one flush each, while the
   * socket is writable.
   */
  void forward(ByteBuf forwardPacket) {
    DerpClient c = current;
    if (c == null) {
      forwardPacket.release();
      mesh.metrics().droppedMeshPeerDown.increment();
      return;
    }
    int size = forwardPacket.readableBytes();
    if (queuedBytes.addAndGet(size) > maxQueuedBytes || !queue.offer(forwardPacket)) {
      queuedBytes.addAndGet(-size);
      forwardPacket.release();
      mesh.metrics().droppedMeshPeerFull.increment();
      return;
    }
    if (drainScheduled.compareAndSet(false, true)) {
      c.eventLoop().execute(() -> drain(c));
    }
  }

  private void drain(DerpClient c) {
    drainScheduled.set(false);
    int written = 0;
    ByteBuf f;
    while (c.isWritable() && (f = queue.poll()) != null) {
      queuedBytes.addAndGet(-f.readableBytes());
      if (c.forwardFrame(f, false)) {
        written++;
      } else {
        mesh.metrics().droppedMeshPeerDown.increment();
      }
    }
    if (written > 0) {
      mesh.metrics().meshForwardedToPeers.add(written);
      c.forwardFrame(io.netty.buffer.Unpooled.EMPTY_BUFFER, true);
    }
    if (!c.isOpen()) {
      releaseQueued();
    }
  }

  private void releaseQueued() {
    ByteBuf f;
    while ((f = queue.poll()) != null) {
      queuedBytes.addAndGet(-f.readableBytes());
      f.release();
      mesh.metrics().droppedMeshPeerDown.increment();
    }
  }

  @Override
  public void onWritabilityChanged(boolean writable) {
    DerpClient c = current;
    if (writable && c != null && !queue.isEmpty() && drainScheduled.compareAndSet(false, true)) {
      drain(c);
    }
  }

  @Override
  public void onConnected(DerpClient c) {
    current = c;
    mesh.metrics().meshPeersUp.incrementAndGet();
    LOG.log(Level.INFO, "mesh peer {0} up ({1})", endpoint, c.serverKey().shortString());
    c.watchConns();
  }

  @Override
  public void onClosed(String reason) {
    current = null;
    releaseQueued();
    mesh.metrics().meshPeersUp.decrementAndGet();
    LOG.log(Level.INFO, "mesh peer {0} down: {1}", endpoint, reason);
    mesh.peerDown(this);
  }

  @Override
  public void onReconnecting(String reason, Duration retryIn) {
    LOG.log(Level.DEBUG, "mesh peer {0} unreachable ({1}); again in {2} ms", endpoint, reason, retryIn.toMillis());
  }

  @Override
  public void onPeerPresent(NodePublicKey peer, Optional<InetSocketAddress> from, int flags) {
    if ((flags & Frame.PeerPresent.FLAG_MESH_PEER) != 0 || peer.equals(self)) {
      return; // another relay's mesh connection, not a client to route to
    }
    mesh.peerPresent(this, peer);
  }

  @Override
  public void onPeerGone(NodePublicKey peer, PeerGoneReason reason) {
    mesh.peerGone(this, peer);
  }

  @Override
  public void onPacket(NodePublicKey source, ByteBuf packet) {
    // Relays send each other nothing but presence on this connection.
  }

  @Override
  public void close() {
    client.close();
  }

  @Override
  public String toString() {
    return "mesh peer " + endpoint;
  }
}
