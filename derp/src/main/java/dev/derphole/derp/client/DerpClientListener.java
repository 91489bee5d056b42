package dev.derphole.derp.client;

import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * What a DERP client tells its user. Calls arrive on the connection's event loop, one at a time;
 * they must not block.
 */
public interface DerpClientListener {

  /**
   * A packet from {@code source}. The buffer is released after this returns; retain or copy it to
   * keep it.
   */
  void onPacket(NodePublicKey source, ByteBuf packet);

  /** A batch of reads ended: a good moment to hand buffered packets on together. */
  default void onReadComplete() {}

  /** The server says {@code peer} left, or was never connected to it. */
  default void onPeerGone(NodePublicKey peer, PeerGoneReason reason) {}

  /** A peer connected (only sent to watchers). */
  default void onPeerPresent(NodePublicKey peer, Optional<InetSocketAddress> endpoint, int flags) {}

  /** The server reports a problem; an empty text means healthy again. */
  default void onHealth(String problem) {}

  /** The server is restarting: reconnect after {@code reconnectInMillis}, keep trying for {@code tryForMillis}. */
  default void onRestarting(long reconnectInMillis, long tryForMillis) {}

  /** The connection may take more writes (true) or its buffer is full (false). */
  default void onWritabilityChanged(boolean writable) {}

  /** The handshake finished; packets flow. */
  default void onConnected(DerpClient client) {}

  /** The connection ended; {@code reason} says why in one line. */
  default void onClosed(String reason) {}

  /** A {@link ReconnectingDerpClient} could not connect and tries again after {@code retryIn}. */
  default void onReconnecting(String reason, java.time.Duration retryIn) {}
}
