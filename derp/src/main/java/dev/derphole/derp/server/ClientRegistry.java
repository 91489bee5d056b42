package dev.derphole.derp.server;

import dev.derphole.derp.key.NodePublicKey;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which connection currently speaks for each client key. A newer connection with the same key
 * replaces the older one, which is then closed: the usual cause is a client that reconnected
 * before the server noticed its old connection was dead.
 */
final class ClientRegistry {
  private final ConcurrentHashMap<NodePublicKey, ClientConnection> byKey = new ConcurrentHashMap<>();
  /** Moves after every change, so a sender may cache what {@link #get} said until it moves. */
  private final AtomicInteger version = new AtomicInteger();

  /** Registers {@code conn}; returns the connection it replaced, or null. */
  ClientConnection register(ClientConnection conn) {
    ClientConnection replaced = byKey.put(conn.key(), conn);
    version.incrementAndGet();
    return replaced;
  }

  /** Removes {@code conn} if it is still the registered one; true when it was. */
  boolean unregister(ClientConnection conn) {
    boolean removed = byKey.remove(conn.key(), conn);
    version.incrementAndGet();
    return removed;
  }

  /** Read it before a {@link #get}: an answer stays current while the version is unchanged. */
  int version() {
    return version.get();
  }

  ClientConnection get(NodePublicKey key) {
    return byKey.get(key);
  }

  /** Every registered connection, a weakly consistent view. */
  java.util.Collection<ClientConnection> all() {
    return byKey.values();
  }

  int size() {
    return byKey.size();
  }
}
