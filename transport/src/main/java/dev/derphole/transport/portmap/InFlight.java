package dev.derphole.transport.portmap;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The sockets and HTTP connections of exchanges under way, so that {@link PortMapper#close()} can
 * abort them: a blocked {@code receive} or HTTP read returns at once with an exception when its
 * socket is closed. Each exchange removes and closes its own resource when it ends.
 */
final class InFlight {
  private final Set<Closeable> open = new HashSet<>();

  /** Registers {@code resource} and returns it. */
  synchronized <T extends Closeable> T add(T resource) {
    open.add(resource);
    return resource;
  }

  /** Unregisters {@code resource} and closes it. */
  void finish(Closeable resource) {
    synchronized (this) {
      open.remove(resource);
    }
    closeQuietly(resource);
  }

  /** Closes everything registered now; exchanges started later are stopped by their deadline. */
  void abortAll() {
    List<Closeable> all;
    synchronized (this) {
      all = new ArrayList<>(open);
      open.clear();
    }
    all.forEach(InFlight::closeQuietly);
  }

  synchronized int size() {
    return open.size();
  }

  private static void closeQuietly(Closeable resource) {
    try {
      resource.close();
    } catch (IOException ignored) {
      // Closing a socket or dropping a connection has nothing left to report.
    }
  }
}
