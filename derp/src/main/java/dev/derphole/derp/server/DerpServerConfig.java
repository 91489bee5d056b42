package dev.derphole.derp.server;

import dev.derphole.derp.frame.DerpProtocol;
import dev.derphole.derp.key.NodePrivateKey;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link DerpServer} runs. Build with {@link #builder()}; every setting has the default a
 * public DERP server would use.
 */
public final class DerpServerConfig {
  final NodePrivateKey privateKey;
  final InetSocketAddress listen;
  final SslContext sslContext;
  final Duration handshakeTimeout;
  final Duration keepAlive;
  final Duration keepAliveJitter;
  final int queuePackets;
  final long queueBytes;
  final long rateBytesPerSecond;
  final long rateBurstBytes;
  final int maxConnections;
  final int maxConnectionsPerIp;
  final Duration idleTimeout;
  final Duration writeTimeout;
  final Duration senderPauseLimit;
  final Duration meshPauseLimit;
  final PacketTap tap;
  /** 64 hex characters shared by the relays of a region, or empty: no mesh. */
  final String meshKey;
  /** The other relays of the region, dialed as mesh peers. */
  final java.util.List<dev.derphole.derp.client.DerpEndpoint> meshWith;

  /**
   * Off: a full queue drops, as Tailscale's derper does. Holding a sender back turns the relay's
   * drops into queueing in the TCP buffers on both sides of it (tens of MiB on a fast path), and a
   * QUIC connection over the relay then sees seconds of delay instead of the loss its congestion
   * control reacts to: with backpressure on, ShareBridgeTest's QUIC-over-relay exchanges stalled
   * past their 30 s timeouts. For senders without congestion control, see the limit's Javadoc.
   */
  public static final Duration DEFAULT_SENDER_PAUSE_LIMIT = Duration.ZERO;

  /**
   * How long a sender whose packets back up a mesh peer's queue stays unread (see {@link MeshPeer})
   * before that peer's packets are dropped when its queue is full. On by default, unlike
   * {@link #DEFAULT_SENDER_PAUSE_LIMIT}: a mesh link is full when the relay behind it falls behind
   * (a busy or starved process), not when one receiver is slow, and Tailscale's derper holds the
   * sender while it writes to a peer. The queue holds eight clients' worth, so one QUIC flow meets
   * its receiver's queue, and drops there, long before it could fill a peer's.
   */
  public static final Duration DEFAULT_MESH_PAUSE_LIMIT = Duration.ofSeconds(2);
  /** Packets queued for one client, beyond its socket buffer, before new ones are dropped. */
  public static final int DEFAULT_QUEUE_PACKETS = 1024;
  /** Packet bytes queued for one client before new packets are dropped. */
  public static final long DEFAULT_QUEUE_BYTES = 4L << 20;
  /** Connections held at once from one IPv4 address or one IPv6 /64, verified or not. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_IP = 64;
  /**
   * Three keep-alive periods. A client that says nothing for half of it gets a Ping; one that
   * still says nothing when it has passed is closed (see {@link Builder#idleTimeout}).
   */
  public static final Duration DEFAULT_IDLE_TIMEOUT = DerpProtocol.KEEP_ALIVE.multipliedBy(3);
  /**
   * How long a client's socket may stay unwritable (more than the 1 MiB high-water mark waiting,
   * not drained to the 256 KiB low-water mark) before it is closed. Tailscale's derper gives one
   * write 2 s; ours waits for a whole MiB to drain, which a slow but honest link may need longer for.
   */
  public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(10);
  /** The smallest rate-limit burst: one frame of the largest size the protocol allows. */
  public static final long MIN_RATE_BURST = TokenBucket.MAX_FRAME_COST;

  /** Sees every packet the server forwards (tests use it to check what a relay operator can see). */
  @FunctionalInterface
  public interface PacketTap {
    /** Called on the sender's event loop; {@code packet} is only valid during the call. */
    void forwarded(dev.derphole.derp.key.NodePublicKey from, dev.derphole.derp.key.NodePublicKey to,
                   io.netty.buffer.ByteBuf packet);
  }

  private DerpServerConfig(Builder b) {
    this.privateKey = b.privateKey != null ? b.privateKey : NodePrivateKey.generate();
    this.listen = Objects.requireNonNull(b.listen, "listen");
    this.sslContext = b.sslContext;
    this.handshakeTimeout = b.handshakeTimeout;
    this.keepAlive = b.keepAlive;
    this.keepAliveJitter = b.keepAliveJitter;
    this.queuePackets = b.queuePackets;
    this.queueBytes = b.queueBytes;
    this.rateBytesPerSecond = b.rateBytesPerSecond;
    this.rateBurstBytes = b.rateBurstBytes;
    this.maxConnections = b.maxConnections;
    this.maxConnectionsPerIp = b.maxConnectionsPerIp;
    this.idleTimeout = b.idleTimeout;
    this.writeTimeout = b.writeTimeout;
    this.senderPauseLimit = b.senderPauseLimit;
    this.meshPauseLimit = b.meshPauseLimit;
    this.tap = b.tap;
    this.meshKey = b.meshKey;
    this.meshWith = java.util.List.copyOf(b.meshWith);
    if (meshKey.isEmpty() && !meshWith.isEmpty()) {
      throw new IllegalArgumentException("mesh peers need a mesh key");
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  public NodePrivateKey privateKey() {
    return privateKey;
  }

  public boolean tls() {
    return sslContext != null;
  }

  /** Settings of a DERP server. */
  public static final class Builder {
    private NodePrivateKey privateKey;
    private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 0);
    private SslContext sslContext;
    private Duration handshakeTimeout = DerpProtocol.HANDSHAKE_TIMEOUT;
    private Duration keepAlive = DerpProtocol.KEEP_ALIVE;
    private Duration keepAliveJitter = DerpProtocol.KEEP_ALIVE_JITTER;
    private int queuePackets = DEFAULT_QUEUE_PACKETS;
    private long queueBytes = DEFAULT_QUEUE_BYTES;
    private long rateBytesPerSecond;
    private long rateBurstBytes;
    private int maxConnections = 10_000;
    private int maxConnectionsPerIp = DEFAULT_MAX_CONNECTIONS_PER_IP;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private Duration writeTimeout = DEFAULT_WRITE_TIMEOUT;
    private Duration senderPauseLimit = DEFAULT_SENDER_PAUSE_LIMIT;
    private Duration meshPauseLimit = DEFAULT_MESH_PAUSE_LIMIT;
    private PacketTap tap;
    private String meshKey = "";
    private java.util.List<dev.derphole.derp.client.DerpEndpoint> meshWith = java.util.List.of();

    /**
     * The region's mesh key, 64 hex characters (Tailscale's {@code --mesh-psk-file}); a client
     * whose ClientInfo carries it is a mesh peer. Empty (the default) refuses every mesh peer.
     */
    public Builder meshKey(String hex) {
      String k = hex == null ? "" : hex.trim().toLowerCase(java.util.Locale.ROOT);
      if (!k.isEmpty() && !k.matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException("the mesh key must be 64 hex characters");
      }
      this.meshKey = k;
      return this;
    }

    /** The other relays of this region, dialed and watched as mesh peers (needs {@link #meshKey}). */
    public Builder meshWith(java.util.List<dev.derphole.derp.client.DerpEndpoint> peers) {
      this.meshWith = java.util.List.copyOf(peers);
      return this;
    }

    /** Mirrors every forwarded packet to {@code tap}; null for none. */
    public Builder tap(PacketTap tap) {
      this.tap = tap;
      return this;
    }

    /** The server's node key; a fresh one when unset. */
    public Builder privateKey(NodePrivateKey key) {
      this.privateKey = key;
      return this;
    }

    public Builder listen(InetSocketAddress address) {
      this.listen = Objects.requireNonNull(address, "address");
      return this;
    }

    /** Serve TLS with this context; {@code null} serves plain HTTP (development and tests). */
    public Builder tls(SslContext context) {
      this.sslContext = context;
      return this;
    }

    /** Time from accept until the client is verified (TLS, HTTP upgrade and ClientInfo). */
    public Builder handshakeTimeout(Duration timeout) {
      this.handshakeTimeout = positive(timeout, "handshakeTimeout");
      return this;
    }

    public Builder keepAlive(Duration interval, Duration jitter) {
      this.keepAlive = positive(interval, "keepAlive");
      if (jitter.isNegative()) {
        throw new IllegalArgumentException("keepAlive jitter must be >= 0, got " + jitter);
      }
      this.keepAliveJitter = jitter;
      return this;
    }

    /** Packets queued for a client beyond its socket buffer before new ones are dropped. */
    public Builder queuePackets(int packets) {
      if (packets < 1) {
        throw new IllegalArgumentException("queuePackets must be >= 1, got " + packets);
      }
      this.queuePackets = packets;
      return this;
    }

    /** Packet bytes queued for a client before new packets are dropped: caps memory per client. */
    public Builder queueBytes(long bytes) {
      if (bytes < 65_536) {
        throw new IllegalArgumentException("queueBytes must be >= 65536 (one packet), got " + bytes);
      }
      this.queueBytes = bytes;
      return this;
    }

    /**
     * Per-client token bucket on what a client sends; 0 turns it off. The burst must hold at least
     * one full frame (65568 bytes). It is advertised in ServerInfo.
     */
    public Builder rateLimit(long bytesPerSecond, long burstBytes) {
      if (bytesPerSecond < 0) {
        throw new IllegalArgumentException("rate must be >= 0 bytes/s, got " + bytesPerSecond);
      }
      if (bytesPerSecond > 0 && burstBytes < MIN_RATE_BURST) {
        throw new IllegalArgumentException(
            "rate-limit burst must be >= " + MIN_RATE_BURST + " bytes, got " + burstBytes);
      }
      this.rateBytesPerSecond = bytesPerSecond;
      this.rateBurstBytes = bytesPerSecond > 0 ? burstBytes : 0;
      return this;
    }

    /**
     * How long a sender may go unread while a destination's queue drains (backpressure) before that
     * destination is treated as stalled and packets for it are dropped instead. Also the longest
     * that one client which stops reading can hold up its senders' packets to anybody else.
     * {@link Duration#ZERO} (the default) turns backpressure off: a full queue always drops. 2 s is
     * a reasonable limit when it is on (Tailscale's derper gives a write to a client that long);
     * 200 ms and 1 s were reached by receivers that were only slow (CPU-starved benchmark clients),
     * after which the sender floods and the relay drops again.
     */
    public Builder senderPauseLimit(Duration limit) {
      if (limit == null || limit.isNegative()) {
        throw new IllegalArgumentException("senderPauseLimit must be >= 0, got " + limit);
      }
      this.senderPauseLimit = limit;
      return this;
    }

    /**
     * How long a sender may go unread while a mesh peer's queue drains ({@link #DEFAULT_MESH_PAUSE_LIMIT});
     * {@link Duration#ZERO} turns that off: a full peer queue always drops.
     */
    public Builder meshPauseLimit(Duration limit) {
      if (limit == null || limit.isNegative()) {
        throw new IllegalArgumentException("meshPauseLimit must be >= 0, got " + limit);
      }
      this.meshPauseLimit = limit;
      return this;
    }

    /** Connections held at once, verified or not; more are closed at accept. */
    public Builder maxConnections(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxConnections must be >= 1, got " + max);
      }
      this.maxConnections = max;
      return this;
    }

    /**
     * Connections held at once from one IPv4 address, or one IPv6 /64 (what one host is usually
     * given); more are closed at accept. Counts every connection, verified or not.
     */
    public Builder maxConnectionsPerIp(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxConnectionsPerIp must be >= 1, got " + max);
      }
      this.maxConnectionsPerIp = max;
      return this;
    }

    /**
     * How long a verified client may say nothing at all. Clients need send nothing while idle (the
     * server's keep-alives are what keeps the connection up), so silence alone proves nothing: a
     * client that said it can answer pings ({@code CanAckPings}, as Tailscale's and ours do) and
     * has been silent for half of this gets a Ping, and is closed only if it has still said
     * nothing when the whole of it has passed. A client that cannot answer pings is never closed
     * for silence. {@link Duration#ZERO} turns it off.
     */
    public Builder idleTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || (!timeout.isZero() && timeout.toMillis() < 1)) {
        throw new IllegalArgumentException("idleTimeout must be 0 (off) or at least 1 ms, got " + timeout);
      }
      this.idleTimeout = timeout;
      return this;
    }

    /**
     * How long a client's socket may stay unwritable (its outbound buffer past the high-water mark
     * without draining to the low one) before the client is closed: one that stops reading holds
     * at most that buffer, and only this long. {@link Duration#ZERO} turns it off.
     */
    public Builder writeTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative()) {
        throw new IllegalArgumentException("writeTimeout must be >= 0, got " + timeout);
      }
      this.writeTimeout = timeout;
      return this;
    }

    public DerpServerConfig build() {
      return new DerpServerConfig(this);
    }

    private static Duration positive(Duration d, String name) {
      if (d == null || d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
      return d;
    }
  }
}
