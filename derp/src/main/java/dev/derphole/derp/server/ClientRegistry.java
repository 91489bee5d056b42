package dev.derphole.derp.server;

import dev.derphole.derp.key.NodePublicKey;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which connection currently speaks for each client key. A newer connection with the same key
 * replaces the older one, which is then closed: the usual cause is a client that reconnected
 * before the server noticed its old connection was dead.
 */
final class ClientRegistry {
  private final ConcurrentHashMap<NodePublicKey, ClientConnection> byKey = new ConcurrentHashMap<>();

  /** Registers {@code conn}; returns the connection it replaced, or null. */
  ClientConnection register(ClientConnection conn) {
    return byKey.put(conn.key(), conn);
  }

  /** Removes {@code conn} if it is still the registered one; true when it was. */
  boolean unregister(ClientConnection conn) {
    return byKey.remove(conn.key(), conn);
  }

  ClientConnection get(NodePublicKey key) {
    return byKey.get(key);
  }

  int size() {
    return byKey.size();
  }
}
