package dev.derphole.cli.e2e;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.session.token.CompressedP256;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoopGroup;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bare DERP client in the test JVM, connected to the same relay as the processes under test:
 * it sends whatever bytes the test gives it and records everything the relay hands back, packets
 * and PeerGone notices alike.
 */
final class RelayPeer implements DerpClientListener, AutoCloseable {
  /** Something the relay delivered to this peer. */
  record Arrival(NodePublicKey source, byte[] packet, PeerGoneReason gone) {
    boolean isPacket() {
      return packet != null;
    }
  }

  final NodePrivateKey key = NodePrivateKey.generate();
  final byte[] tlsKey = freshTlsKey();
  private final BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
  private final DerpClient client;

  RelayPeer(DerpNode node, EventLoopGroup group) throws Exception {
    this.client = DerpClient.connect(DerpEndpoint.of(node), key, this, group, DerpClient.Options.defaults());
  }

  NodePublicKey publicKey() {
    return key.publicKey();
  }

  void send(NodePublicKey to, byte[] packet) {
    if (!client.send(to, packet.clone())) {
      throw new IllegalStateException("the DERP connection is closed");
    }
  }

  /** The next arrival within {@code timeout}, or null. */
  Arrival poll(Duration timeout) throws InterruptedException {
    return arrivals.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void onPacket(NodePublicKey source, ByteBuf packet) {
    arrivals.add(new Arrival(source, ByteBufUtil.getBytes(packet), null));
  }

  @Override
  public void onPeerGone(NodePublicKey peer, PeerGoneReason reason) {
    arrivals.add(new Arrival(peer, null, reason));
  }

  @Override
  public void close() {
    client.close();
  }

  /** A fresh P-256 public key in the 33-byte compressed form claims carry. */
  static byte[] freshTlsKey() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return CompressedP256.compress((ECPublicKey) g.generateKeyPair().getPublic());
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }
}
