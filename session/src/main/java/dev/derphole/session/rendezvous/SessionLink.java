package dev.derphole.session.rendezvous;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.client.ReconnectingDerpClient;
import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.claim.Envelope;
import dev.derphole.transport.peer.PeerConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A session's DERP connection. It sorts what arrives: sealed envelopes (first byte 0x00) go to the
 * control handler, whoever sent them; everything else from the peer goes to the peer connection as
 * QUIC datagrams, in read batches; everything else from anybody else is dropped. It is the relay
 * link of that {@link PeerConnection}: QUIC's packets for the relay leave through it.
 */
public final class SessionLink implements DerpClientListener, AutoCloseable {
  private final ReconnectingDerpClient derp;
  private final List<ByteBuf> batch = new ArrayList<>();
  private volatile NodePublicKey peer;
  private volatile boolean closing;
  private volatile PeerConnection connection;
  private volatile BiConsumer<NodePublicKey, byte[]> onEnvelope = (k, b) -> { };
  private volatile BiConsumer<NodePublicKey, PeerGoneReason> onPeerGone = (k, r) -> { };
  private volatile BiConsumer<String, String> onConnectionEvent = (name, detail) -> { };

  public SessionLink(DerpEndpoint endpoint, NodePrivateKey key, EventLoopGroup group) {
    this(dev.derphole.derp.client.RegionNodes.of(endpoint), key, group);
  }

  /** Over whichever node of the region answers first, in map order, after every loss. */
  public SessionLink(dev.derphole.derp.client.RegionNodes nodes, NodePrivateKey key, EventLoopGroup group) {
    this.derp = new ReconnectingDerpClient(nodes, key, this, group, DerpClient.Options.defaults());
  }

  /** Connects, and waits until the relay has accepted us. */
  public SessionLink start(Duration timeout) throws IOException, InterruptedException {
    derp.start();
    derp.awaitConnected(timeout);
    return this;
  }

  public NodePublicKey publicKey() {
    return derp.publicKey();
  }

  public void onEnvelope(BiConsumer<NodePublicKey, byte[]> handler) {
    this.onEnvelope = handler;
  }

  /** The relay says the peer left (or, with NOT_HERE, was never connected to it). */
  public void onPeerGone(BiConsumer<NodePublicKey, PeerGoneReason> handler) {
    this.onPeerGone = handler;
  }

  /** Relay connection lost / back: for --verbose. */
  public void onConnectionEvent(BiConsumer<String, String> handler) {
    this.onConnectionEvent = handler;
  }

  /** From now on, non-envelope packets from {@code peer} feed {@code connection}, whose relayed packets go to {@code peer}. */
  public void attach(NodePublicKey peer, PeerConnection connection) {
    this.peer = peer;
    this.connection = connection;
    // QUIC's packets: dropped rather than queued without bound when the relay connection is backed up.
    connection.relay(buf -> derp.sendDatagram(peer, buf));
  }

  /** The peer whose PeerGone we report, before any connection is attached (the claim phase). */
  public void watch(NodePublicKey peer) {
    this.peer = peer;
  }

  /** Waits (bounded) until what was sent so far is on the wire: for last words before exiting. */
  public boolean flush(Duration timeout) {
    return derp.flush(timeout);
  }

  public boolean send(NodePublicKey to, byte[] packet) {
    return derp.send(to, Unpooled.wrappedBuffer(packet));
  }

  @Override
  public void onPacket(NodePublicKey source, ByteBuf packet) {
    if (Envelope.isEnvelope(packet)) {
      onEnvelope.accept(source, ByteBufUtil.getBytes(packet));
      return;
    }
    if (source.equals(peer) && connection != null) {
      batch.add(packet.retain());
    }
  }

  @Override
  public void onReadComplete() {
    if (!batch.isEmpty()) {
      PeerConnection p = connection;
      List<ByteBuf> out = new ArrayList<>(batch);
      batch.clear();
      if (p != null) {
        p.fromRelay(out);
      } else {
        out.forEach(ByteBuf::release);
      }
    }
  }

  @Override
  public void onPeerGone(NodePublicKey gone, PeerGoneReason reason) {
    if (gone.equals(peer)) {
      onPeerGone.accept(gone, reason);
    }
  }

  @Override
  public void onClosed(String reason) {
    if (closing) {
      return;
    }
    onConnectionEvent.accept("relay-disconnected", reason);
  }

  @Override
  public void onConnected(DerpClient client) {
    onConnectionEvent.accept("relay-connected", String.valueOf(client.remoteAddress()));
  }

  @Override
  public void close() {
    closing = true;
    derp.close();
    synchronized (batch) {
      batch.forEach(ByteBuf::release);
      batch.clear();
    }
  }
}
