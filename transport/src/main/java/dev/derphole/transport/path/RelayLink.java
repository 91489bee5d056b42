package dev.derphole.transport.path;

import io.netty.buffer.ByteBuf;

/** Sends one datagram to the peer through the DERP relay. */
@FunctionalInterface
public interface RelayLink {
  /** Takes ownership of {@code packet}; false when it was dropped (no connection, buffer full). */
  boolean send(ByteBuf packet);
}
