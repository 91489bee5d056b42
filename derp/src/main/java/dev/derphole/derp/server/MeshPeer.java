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

  MeshPeer(Mesh mesh, DerpEndpoint endpoint, NodePrivateKey key, String meshKey, EventLoopGroup group) {
    this.mesh = mesh;
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

  /** Writes a ready ForwardPacket frame to the peer (owned from here on); dropped and counted if it cannot take it. */
  void forward(ByteBuf forwardPacket) {
    DerpClient c = current;
    if (c == null) {
      forwardPacket.release();
      mesh.metrics().droppedMeshPeerDown.increment();
    } else if (c.forwardFrame(forwardPacket)) {
      mesh.metrics().meshForwardedToPeers.increment();
    } else {
      mesh.metrics().droppedMeshPeerFull.increment();
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
