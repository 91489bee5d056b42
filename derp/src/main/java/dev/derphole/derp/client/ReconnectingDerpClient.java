package dev.derphole.derp.client;

import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps one DERP connection up for as long as it is open: dials, and after any loss dials again
 * with exponential backoff (100 ms doubling to a cap of 10 s, with jitter), or after the delay a
 * server's Restarting frame asked for. Packets sent while disconnected are dropped, as on any
 * datagram path.
 */
public final class ReconnectingDerpClient implements AutoCloseable {
  static final Duration INITIAL_BACKOFF = Duration.ofMillis(100);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

  private final DerpEndpoint endpoint;
  private final RegionNodes nodes;
  private final NodePrivateKey key;
  private final DerpClientListener listener;
  private final EventLoopGroup group;
  private final DerpClient.Options options;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Thread dialer;
  private volatile DerpClient current;
  private volatile boolean closed;
  private volatile long restartHintMillis = -1;
  /** The last dial's certificate refusal: waiting for a connection will not help, so nobody waits. */
  private volatile RelayCertificateException refused;

  public ReconnectingDerpClient(DerpEndpoint endpoint, NodePrivateKey key, DerpClientListener listener,
                                EventLoopGroup group, DerpClient.Options options) {
    this(RegionNodes.of(endpoint), key, listener, group, options);
  }

  /** Dials the region's nodes in map order each time, keeping the first that answers ({@link RegionNodes}). */
  public ReconnectingDerpClient(RegionNodes nodes, NodePrivateKey key, DerpClientListener listener,
                                EventLoopGroup group, DerpClient.Options options) {
    this.nodes = nodes;
    this.endpoint = nodes.first();
    this.key = key;
    this.listener = listener;
    this.group = group;
    this.options = options;
    this.dialer = new Thread(this::run, "derp-dialer " + endpoint.hostName());
    this.dialer.setDaemon(true);
  }

  /** Starts dialing in the background. */
  public ReconnectingDerpClient start() {
    dialer.start();
    return this;
  }

  public NodePublicKey publicKey() {
    return key.publicKey();
  }

  public Optional<DerpClient> current() {
    DerpClient c = current;
    return c != null && c.isOpen() ? Optional.of(c) : Optional.empty();
  }

  /** Sends through the current connection; false (packet dropped) while there is none. */
  public boolean send(NodePublicKey destination, ByteBuf packet) {
    DerpClient c = current;
    if (c == null) {
      packet.release();
      return false;
    }
    return c.send(destination, packet);
  }

  /** {@link DerpClient#sendDatagram}: dropped while there is no connection or its buffer is full. */
  public boolean sendDatagram(NodePublicKey destination, ByteBuf packet) {
    DerpClient c = current;
    if (c == null) {
      packet.release();
      return false;
    }
    return c.sendDatagram(destination, packet);
  }

  /** Waits until what was sent so far is on the socket; false when there is no connection or time ran out. */
  public boolean flush(Duration timeout) {
    DerpClient c = current;
    return c != null && c.flush(timeout);
  }

  /** Waits until a connection is up. */
  public DerpClient awaitConnected(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      while (true) {
        DerpClient c = current;
        if (c != null && c.isOpen()) {
          return c;
        }
        if (closed) {
          throw new IOException("DERP client closed");
        }
        RelayCertificateException r = refused;
        if (r != null) {
          throw new RelayCertificateException(r.getMessage());
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          String why = lastFailure; // e.g. a proxy's refusal, which the user can act on
          throw new IOException("could not reach DERP server " + endpoint + " within " + timeout.toSeconds() + " s"
              + (why != null ? " (last attempt: " + why + ")" : ""));
        }
        changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }

  private volatile String lastFailure;

  private void run() {
    Duration backoff = INITIAL_BACKOFF;
    while (!closed) {
      DerpClient c;
      try {
        c = nodes.dial(node -> DerpClient.connect(node, key, new Relay(), group, options));
      } catch (IOException e) {
        lastFailure = e.getMessage();
        if (e instanceof RelayCertificateException r) {
          refused = r;
          signal(null);
        }
        Duration wait = nextWait(backoff);
        backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
        listener.onReconnecting(e.getMessage(), wait);
        sleep(wait);
        continue;
      }
      backoff = INITIAL_BACKOFF;
      refused = null;
      signal(c);
      if (closed) {
        c.close();
        break;
      }
      c.closed().join();
      signal(null);
      if (!closed) {
        Duration wait = nextWait(backoff);
        listener.onReconnecting("connection to " + endpoint + " lost", wait);
        sleep(wait);
      }
    }
  }

  private Duration nextWait(Duration backoff) {
    long hint = restartHintMillis;
    restartHintMillis = -1;
    if (hint >= 0) {
      return Duration.ofMillis(hint);
    }
    long ms = backoff.toMillis();
    return Duration.ofMillis(ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1) + ms / 4);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private void signal(DerpClient c) {
    lock.lock();
    try {
      current = c;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void sleep(Duration d) {
    lock.lock();
    try {
      long left = d.toNanos();
      while (!closed && left > 0) {
        left = changed.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    closed = true;
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    DerpClient c = current;
    if (c != null) {
      c.close();
    }
    try {
      dialer.join(TimeUnit.SECONDS.toMillis(DerpClient.CONNECT_BUDGET.toSeconds() + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Passes events through, and remembers a server's restart hint for the next dial. */
  private final class Relay implements DerpClientListener {
    @Override
    public void onPacket(NodePublicKey source, ByteBuf packet) {
      listener.onPacket(source, packet);
    }

    @Override
    public void onPeerGone(NodePublicKey peer, dev.derphole.derp.frame.PeerGoneReason reason) {
      listener.onPeerGone(peer, reason);
    }

    @Override
    public void onPeerPresent(NodePublicKey peer, Optional<InetSocketAddress> ep, int flags) {
      listener.onPeerPresent(peer, ep, flags);
    }

    @Override
    public void onReadComplete() {
      listener.onReadComplete();
    }

    @Override
    public void onHealth(String problem) {
      listener.onHealth(problem);
    }

    @Override
    public void onRestarting(long reconnectInMillis, long tryForMillis) {
      restartHintMillis = reconnectInMillis;
      listener.onRestarting(reconnectInMillis, tryForMillis);
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
      listener.onWritabilityChanged(writable);
    }

    @Override
    public void onConnected(DerpClient client) {
      listener.onConnected(client);
    }

    @Override
    public void onClosed(String reason) {
      listener.onClosed(reason);
    }
  }
}
