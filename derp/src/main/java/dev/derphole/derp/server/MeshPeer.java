package dev.derphole.derp.server;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.client.ReconnectingDerpClient;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.frame.RawSendPacket;
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
  /**
   * Packets waiting for the peer connection's loop, each with its sender's key: bounded in packets
   * and bytes as a client's queue is ({@link Mesh#PEER_QUEUE_FACTOR} clients' worth).
   */
  private final java.util.Queue<Pending> queue;
  private final java.util.concurrent.atomic.AtomicLong queuedBytes = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicBoolean drainScheduled = new java.util.concurrent.atomic.AtomicBoolean();
  private final int maxQueuedPackets;
  private final long maxQueuedBytes;
  /**
   * As a destination: a sender whose packets back this queue up past half stops being read until
   * it is down to a quarter, for at most the server's mesh pause limit (then they are dropped when
   * it is full). Tailscale's derper writes a forwarded packet to its peer from the sender's read
   * loop, so a slow mesh link slows the sender there too, instead of losing its packets.
   */
  private final SenderBackpressure backpressure;

  /** One packet for the peer: its SendPacket frame as read, and who sent it. */
  private record Pending(byte[] source, RawSendPacket packet) {}

  MeshPeer(Mesh mesh, DerpEndpoint endpoint, NodePrivateKey key, String meshKey, EventLoopGroup group,
           int queuePackets, long queueBytes, Duration pauseLimit) {
    this.mesh = mesh;
    this.queue = io.netty.util.internal.PlatformDependent.newFixedMpscQueue(queuePackets);
    this.maxQueuedPackets = queuePackets;
    this.maxQueuedBytes = queueBytes;
    this.backpressure = new SenderBackpressure(mesh.metrics(), pauseLimit, queuePackets, queueBytes,
        queue::size, queuedBytes::get, () -> { });
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

  SenderBackpressure backpressure() {
    return backpressure;
  }

  /** Packets waiting for the peer connection (for tests of the bound). */
  int queuedPackets() {
    return queue.size();
  }

  long queuedBytes() {
    return queuedBytes.get();
  }

  int maxQueuedPackets() {
    return maxQueuedPackets;
  }

  long maxQueuedBytes() {
    return maxQueuedBytes;
  }

  /**
   * Queues {@code p} (owned from here on), sent by {@code source}, for the peer, from any thread:
   * dropped and counted while the peer is down or its queue is full. The queue drains on the
   * connection's loop in batches, many ForwardPackets to a buffer and one flush each, while the
   * socket is writable.
   */
  void forward(byte[] source, RawSendPacket p) {
    DerpClient c = current;
    if (c == null) {
      p.release();
      mesh.metrics().droppedMeshPeerDown.increment();
      return;
    }
    int size = p.forwardPacketLength();
    if (queuedBytes.addAndGet(size) > maxQueuedBytes || !queue.offer(new Pending(source, p))) {
      queuedBytes.addAndGet(-size);
      p.release();
      mesh.metrics().droppedMeshPeerFull.increment();
      return;
    }
    if (drainScheduled.compareAndSet(false, true)) {
      c.eventLoop().execute(() -> drain(c));
    }
  }

  /** How many bytes of ForwardPackets go into one buffer and one write, at most (a larger packet takes one of its own). */
  static final int BATCH_BYTES = 64 << 10;

  private void drain(DerpClient c) {
    drainScheduled.set(false);
    int written = 0;
    while (c.isWritable()) {
      ByteBuf batch = null;
      int n = 0;
      Pending f;
      while ((f = queue.peek()) != null) {
        int length = f.packet().forwardPacketLength();
        if (batch == null) {
          batch = c.alloc().directBuffer((int) Math.max(length, Math.min(BATCH_BYTES, queuedBytes.get())));
        } else if (batch.writableBytes() < length) {
          break;
        }
        queue.poll();
        queuedBytes.addAndGet(-length);
        f.packet().writeForwardPacketTo(f.source(), batch);
        n++;
      }
      if (batch == null) {
        break;
      }
      if (c.forwardFrame(batch, false)) {
        written += n;
      } else {
        mesh.metrics().droppedMeshPeerDown.add(n);
        break;
      }
    }
    if (written > 0) {
      mesh.metrics().meshForwardedToPeers.add(written);
      c.flushForwarded();
    }
    if (!c.isOpen()) {
      releaseQueued();
    }
    backpressure.afterDrain();
  }

  private void releaseQueued() {
    Pending f;
    while ((f = queue.poll()) != null) {
      queuedBytes.addAndGet(-f.packet().forwardPacketLength());
      f.packet().release();
      mesh.metrics().droppedMeshPeerDown.increment();
    }
    backpressure.afterDrain();
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
    backpressure.closed();
  }

  @Override
  public String toString() {
    return "mesh peer " + endpoint;
  }
}
