package dev.derphole.derp.server;

import dev.derphole.derp.frame.ClientInfoMessage;
import dev.derphole.derp.frame.DerpProtocol;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.frame.FrameDecoder;
import dev.derphole.derp.frame.FrameType;
import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.frame.RawForwardPacket;
import dev.derphole.derp.frame.RawSendPacket;
import dev.derphole.derp.frame.ServerInfoMessage;
import dev.derphole.derp.key.BoxException;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.PlatformDependent;
import java.lang.System.Logger.Level;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * One client's DERP connection after the HTTP upgrade.
 *
 * <pre>
 *   AWAITING_CLIENT_INFO --ClientInfo opens and parses--> ACTIVE --channel closes--> CLOSED
 *            |                                              |
 *            +--bad box / JSON / frame-----------------------+--protocol error--> CLOSED
 * </pre>
 *
 * Packets for this client arrive from other connections' event loops through a bounded
 * multi-producer queue. A packet is forwarded in the buffer it was read into: its SendPacket frame
 * becomes the RecvPacket in place ({@link RawSendPacket}).
 *
 * <p>Backpressure, bounded and off by default (see {@link DerpServerConfig#DEFAULT_SENDER_PAUSE_LIMIT}
 * for why), is {@link SenderBackpressure}: once a destination's queue is half full, the sender
 * that filled it stops being read (its TCP window closes, so it slows down instead of having its
 * packets read, decoded and dropped) until the queue is down to a quarter, or the pause limit.
 *
 * <p>Nothing is written to a client whose socket is unwritable (more than
 * {@link DerpServer#WRITE_HIGH_WATER} waiting): relayed packets and PeerGone wait in the bounded
 * queue, and the frames the server sends on its own (Pong, NotHere, KeepAlive, the idle Ping) are
 * dropped and counted, as Tailscale's derper drops a pong when its one-slot pong buffer is full. So
 * a client that sends Pings and never reads costs at most that buffer; and one whose socket stays
 * unwritable past the write timeout is closed.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger(ClientConnection.class.getName());

  enum State { AWAITING_CLIENT_INFO, ACTIVE, CLOSED }

  /** What a SendPacket costs the token bucket beyond its packet: header and destination key. */
  private static final int SEND_PACKET_OVERHEAD = DerpProtocol.HEADER_LENGTH + DerpProtocol.KEY_LENGTH;

  private final DerpServer server;
  private final FrameDecoder decoder;
  /** RecvPacket frames ready to write ({@link ByteBuf}) and other frames ({@link Frame}). */
  private final Queue<Object> outbound;
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final Runnable drainTask = this::drain;
  /** Bytes waiting in {@link #outbound}: with the packet cap, bounds memory per client. */
  private final java.util.concurrent.atomic.AtomicLong queuedBytes = new java.util.concurrent.atomic.AtomicLong();
  /**
   * Who hears PeerGone(Disconnected) when this client leaves: the clients it sent packets to (what
   * Tailscale's server does) and the clients that sent packets to it (so a sender stops talking to
   * a peer that is gone).
   */
  private final Set<NodePublicKey> peers = ConcurrentHashMap.newKeySet();
  private volatile NodePublicKey lastPeer;

  private ChannelHandlerContext ctx;
  private State state = State.AWAITING_CLIENT_INFO;
  private NodePublicKey key;
  /** {@link #key}'s 32 bytes, written into every packet this client sends. */
  private byte[] keyBytes;
  /** Where this client's last packet went, while the registry's version is {@link #lastDestinationVersion}. */
  private ClientConnection lastDestination;
  private int lastDestinationVersion;
  private TokenBucket bucket;
  private ScheduledFuture<?> keepAliveTask;
  /** Closes the client if its socket is still unwritable when it fires; null while writable. */
  private ScheduledFuture<?> writeDeadline;
  private ScheduledFuture<?> idleTask;
  /** The client said it answers server pings (ClientInfo {@code CanAckPings}). */
  private boolean canAckPings;
  /** When a read from this client last completed (System.nanoTime). */
  private long lastHeard;
  /** An idle Ping went out and nothing has been heard since. */
  private boolean idlePinged;
  /** This side closed the connection (and said why); what fails after that is not news. */
  private boolean closing;
  private double notHereTokens = 3;
  private long notHereLast = System.nanoTime();
  /** Reading is off while the token bucket is empty. */
  private boolean rateLimited;
  private final SenderBackpressure backpressure;
  /** Logged in with the region's mesh key: another relay (see {@link Mesh}). */
  private boolean meshPeer;
  /**
   * Where this client's last packet for a client on another relay went, while the registry and the
   * mesh's routes are at the versions noted: such a packet then costs no key and no map lookup.
   */
  private MeshPeer lastMeshPeer;
  private byte[] lastMeshKey;
  private int lastMeshRegistryVersion;
  private int lastMeshVersion;
  /** The last source a mesh peer forwarded a packet to this client from, noted by {@link Mesh#deliver}. */
  volatile Noted lastMeshSource;

  /** A key noted while the mesh's routes were at {@code version}. */
  record Noted(byte[] key, int version) {}

  ClientConnection(DerpServer server, FrameDecoder decoder) {
    this.server = server;
    this.decoder = decoder;
    this.outbound = PlatformDependent.newFixedMpscQueue(server.config.queuePackets);
    this.backpressure = new SenderBackpressure(server.metrics, server.config.senderPauseLimit,
        server.config.queuePackets, server.config.queueBytes, outbound::size, queuedBytes::get, this::updateAutoRead);
  }

  NodePublicKey key() {
    return key;
  }

  Channel channel() {
    return ctx.channel();
  }

  byte[] keyBytes() {
    return keyBytes;
  }

  boolean isMeshPeer() {
    return meshPeer;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    backpressure.executor(ctx.executor());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    // Frames decoded from the same read as one that closed the connection are not acted on.
    if (msg instanceof RawSendPacket p && state == State.ACTIVE && ctx.channel().isActive()) {
      pace(SEND_PACKET_OVERHEAD + p.packetLength());
      route(p);
      return;
    }
    if (msg instanceof RawForwardPacket f && state == State.ACTIVE && ctx.channel().isActive() && meshPeer) {
      server.mesh.deliver(f);
      return;
    }
    try {
      if (!ctx.channel().isActive()) {
        return;
      }
      if (state == State.AWAITING_CLIENT_INFO) {
        onClientInfo(msg);
      } else if (state == State.ACTIVE && msg instanceof RawForwardPacket) {
        server.metrics.protocolErrors.increment();
        fail("client sent a " + FrameType.FORWARD_PACKET + " frame, which only mesh peers send");
      } else if (state == State.ACTIVE) {
        onFrame((Frame) msg);
      }
    } finally {
      if (msg instanceof RawSendPacket p) {
        p.release();
      } else if (msg instanceof RawForwardPacket f) {
        f.release();
      } else {
        ReferenceCountUtil.release(msg);
      }
    }
  }

  private void onClientInfo(Object msg) {
    if (!(msg instanceof Frame.ClientInfo info)) {
      server.metrics.handshakeFailures.increment();
      fail("expected ClientInfo, got " + describe(msg));
      return;
    }
    ClientInfoMessage body;
    try {
      byte[] json = server.config.privateKey().open(info.clientKey(), info.nonceAndBox());
      body = ClientInfoMessage.parse(json);
    } catch (BoxException e) {
      server.metrics.handshakeFailures.increment();
      fail("ClientInfo box does not open: " + e.getMessage());
      return;
    } catch (RuntimeException e) {
      server.metrics.handshakeFailures.increment();
      fail("bad ClientInfo: " + e.getMessage());
      return;
    }
    if (!body.meshKey().isEmpty()) {
      if (!server.mesh.admits(body.meshKey())) {
        server.metrics.handshakeFailures.increment();
        server.metrics.meshRefused.increment();
        fail("wrong mesh key");
        return;
      }
      meshPeer = true; // exempt from the rate limit and the per-address cap, as derper's mesh clients are
      server.exemptFromPerIpCap(ctx.channel());
    }
    key = info.clientKey();
    keyBytes = key.raw();
    canAckPings = body.canAckPings();
    state = State.ACTIVE;
    server.verified(ctx.channel());
    decoder.setMaxFrameLength(DerpProtocol.MAX_SERVER_FRAME_LENGTH);
    if (server.config.rateBytesPerSecond > 0 && !meshPeer) {
      bucket = new TokenBucket(server.config.rateBytesPerSecond, server.config.rateBurstBytes, System.nanoTime());
    }
    server.metrics.clients.incrementAndGet();
    ClientConnection replaced = server.registry.register(this);
    if (replaced != null) {
      server.metrics.replacedConnections.increment();
      LOG.log(Level.INFO, "client {0} reconnected from {1}; closing its older connection from {2}",
          key.shortString(), ctx.channel().remoteAddress(), replaced.channel().remoteAddress());
      replaced.channel().close();
    }
    server.mesh.localPresent(this);
    // Registered first, as Go's server does: a client that has its ServerInfo can be sent to at once.
    ServerInfoMessage serverInfo =
        new ServerInfoMessage(DerpProtocol.PROTOCOL_VERSION, server.config.rateBytesPerSecond, server.config.rateBurstBytes);
    byte[] sealed = server.config.privateKey().seal(key, serverInfo.toJson());
    ctx.writeAndFlush(new Frame.ServerInfo(sealed));
    scheduleKeepAlive();
    scheduleIdleCheck();
  }

  /**
   * Charges {@code frameBytes} to the token bucket, if any, and pauses reading while it is in debt.
   * One pause at a time: the frames of a read still being decoded add to the debt, and the pause
   * ends only once all of it is paid. (A timer per frame let the first one resume reading while
   * the debt of the others stood, and the relay passed about four times the configured rate.)
   */
  private void pace(int frameBytes) {
    if (bucket != null) {
      long pause = bucket.take(frameBytes, System.nanoTime());
      if (pause > 0 && !rateLimited) {
        server.metrics.rateLimitPauses.increment();
        rateLimited = true;
        updateAutoRead();
        ctx.executor().schedule(this::endRatePause, pause, TimeUnit.NANOSECONDS);
      }
    }
  }

  private void endRatePause() {
    long more = bucket.take(0, System.nanoTime());
    if (more > 0) {
      ctx.executor().schedule(this::endRatePause, more, TimeUnit.NANOSECONDS);
      return;
    }
    rateLimited = false;
    updateAutoRead();
  }

  private void onFrame(Frame frame) {
    pace(frame.encodedLength());
    if (frame instanceof Frame.Ping ping) {
      if (writeOwn(new Frame.Pong(ping.data()), server.metrics.droppedPongs)) {
        server.metrics.pingsAnswered.increment();
      }
    } else if (meshPeer && server.mesh.onMeshFrame(this, frame)) {
      // a mesh peer's WatchConns, ForwardPacket or ClosePeer
    } else if (frame instanceof Frame.NotePreferred || frame instanceof Frame.Unknown
        || frame instanceof Frame.KeepAlive || frame instanceof Frame.Pong) {
      // stats only / ignored, as derper does
    } else {
      server.metrics.protocolErrors.increment();
      fail("client sent a " + frame.type() + " frame, which only servers or mesh peers send");
    }
  }

  /** Takes ownership of {@code p}. */
  private void route(RawSendPacket p) {
    ClientConnection dst = destinationOf(p);
    if (dst == null) {
      return; // forwarded to a mesh peer, or dropped
    }
    int length = p.packetLength();
    if (server.config.tap != null) {
      server.config.tap.forwarded(key, dst.key, p.packet());
    }
    // Counted before the hand-over, taken back if it is dropped: once queued, the packet can reach
    // its receiver (on another thread) before this thread would get to count it.
    server.metrics.packetsForwarded.increment();
    server.metrics.bytesForwarded.add(length);
    if (!dst.enqueue(p.toRecvPacket(keyBytes))) {
      server.metrics.packetsForwarded.decrement();
      server.metrics.bytesForwarded.add(-length);
    }
    backpressure.afterSend(dst.backpressure);
  }

  /** Hands {@code p} to the mesh peer that holds its destination; the sender waits if that peer's queue backs up. */
  private void forwardToMesh(MeshPeer peer, RawSendPacket p) {
    peer.forward(keyBytes, p);
    backpressure.afterSend(peer.backpressure());
  }

  private void updateAutoRead() {
    ctx.channel().config().setAutoRead(!rateLimited && !backpressure.paused());
  }

  /**
   * The connection {@code p} goes to; or null, when it went to a mesh peer or was dropped (and
   * released). A sender mostly talks to one peer: while the registry (and for a peer on another
   * relay, the mesh's routes) are unchanged, that answer is kept and checked against the frame's
   * key bytes, so the common case allocates no key and does no map lookup.
   */
  private ClientConnection destinationOf(RawSendPacket p) {
    int version = server.registry.version(); // before the lookup: a change after it invalidates
    ClientConnection dst = lastDestination;
    if (dst != null && version == lastDestinationVersion && p.destinationIs(dst.keyBytes)) {
      return dst;
    }
    if (lastMeshPeer != null && version == lastMeshRegistryVersion && server.mesh.version() == lastMeshVersion
        && p.destinationIs(lastMeshKey)) {
      forwardToMesh(lastMeshPeer, p);
      return null;
    }
    int meshVersion = server.mesh.version();
    NodePublicKey destination = p.destination();
    dst = server.registry.get(destination);
    if (dst != null) {
      // Note the pair before the packet can arrive, so a receiver that leaves at once still tells us.
      notePeer(dst.key);
      dst.notePeer(key);
      lastDestination = dst;
      lastDestinationVersion = version;
      return dst;
    }
    MeshPeer peer = server.mesh.routeOf(destination);
    if (peer != null) {
      server.mesh.noteTalker(destination, key);
      lastMeshPeer = peer;
      lastMeshKey = destination.raw();
      lastMeshRegistryVersion = version;
      lastMeshVersion = meshVersion;
      forwardToMesh(peer, p);
      return null;
    }
    server.metrics.droppedUnknownDestination.increment();
    p.release();
    tellNotHere(destination);
    return null;
  }

  private void notePeer(NodePublicKey peer) {
    if (!peer.equals(lastPeer)) {
      peers.add(peer);
      lastPeer = peer;
    }
  }

  /** PeerGone(NotHere), at most one a second with a burst of three, so a bad sender learns quickly but cheaply. */
  private void tellNotHere(NodePublicKey destination) {
    long now = System.nanoTime();
    notHereTokens = Math.min(3, notHereTokens + (now - notHereLast) / 1e9);
    notHereLast = now;
    if (notHereTokens >= 1) {
      notHereTokens -= 1;
      writeOwn(new Frame.PeerGone(destination, PeerGoneReason.NOT_HERE), server.metrics.droppedNotHere);
    }
  }

  /**
   * Writes (without flushing) a frame the server sends on its own, not one it relays: dropped,
   * and counted in {@code dropped}, while the socket is unwritable. True when written.
   */
  private boolean writeOwn(Frame frame, LongAdder dropped) {
    Channel ch = ctx.channel();
    if (!ch.isWritable()) {
      dropped.increment();
      return false;
    }
    ctx.write(frame, ctx.voidPromise());
    notePending(ch);
    return true;
  }

  /** Tells the metrics how much waits in the socket's write buffer after a write. */
  private void notePending(Channel ch) {
    ChannelOutboundBuffer buf = ch.unsafe().outboundBuffer();
    if (buf != null) {
      server.metrics.notePending(buf.totalPendingWriteBytes());
    }
  }

  /**
   * Queues a frame for this client from any thread: a {@link Frame}, or a ready RecvPacket frame's
   * bytes. False (and the frame released) when the queue is full or closed.
   */
  boolean enqueue(Object frame) {
    int size = queuedSize(frame);
    if (state != State.CLOSED && queuedBytes.addAndGet(size) > server.config.queueBytes) {
      queuedBytes.addAndGet(-size);
      server.metrics.droppedQueueFull.increment();
      ReferenceCountUtil.release(frame);
      return false;
    }
    if (state == State.CLOSED || !outbound.offer(frame)) {
      queuedBytes.addAndGet(-size);
      if (state == State.CLOSED) {
        server.metrics.droppedGone.increment();
      } else {
        server.metrics.droppedQueueFull.increment();
      }
      ReferenceCountUtil.release(frame);
      return false;
    }
    if (drainScheduled.compareAndSet(false, true)) {
      ctx.executor().execute(drainTask);
    }
    return true;
  }

  /** What a queued frame counts against {@code queueBytes}: its payload, as for any frame. */
  private static int queuedSize(Object frame) {
    return frame instanceof ByteBuf b ? b.readableBytes() - DerpProtocol.HEADER_LENGTH : ((Frame) frame).payloadLength();
  }

  private void drain() {
    drainScheduled.set(false);
    Channel ch = ctx.channel();
    int written = 0;
    while (ch.isWritable()) {
      Object f = outbound.poll();
      if (f == null) {
        break;
      }
      queuedBytes.addAndGet(-queuedSize(f));
      ctx.write(f, ctx.voidPromise());
      written++;
    }
    if (written > 0) {
      notePending(ch);
      ctx.flush();
    }
    if (state == State.CLOSED) {
      releaseQueued();
    }
    backpressure.afterDrain();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Channel ch = ctx.channel();
    if (ch.isWritable()) {
      if (writeDeadline != null) {
        writeDeadline.cancel(false);
        writeDeadline = null;
      }
      if (!outbound.isEmpty()) {
        drain();
      }
    } else if (writeDeadline == null && !server.config.writeTimeout.isZero() && ch.isActive()) {
      writeDeadline = ctx.executor().schedule(() -> {
        if (!ch.isWritable() && ch.isActive()) {
          server.metrics.writeTimeouts.increment();
          fail("its socket stayed full for " + server.config.writeTimeout.toMillis() + " ms: it is not reading");
        }
      }, server.config.writeTimeout.toNanos(), TimeUnit.NANOSECONDS);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    lastHeard = System.nanoTime();
    idlePinged = false;
    ctx.flush();
  }

  private void scheduleKeepAlive() {
    long jitter = server.config.keepAliveJitter.toNanos();
    long period = server.config.keepAlive.toNanos() + (jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter) : 0);
    keepAliveTask = ctx.executor().scheduleAtFixedRate(() -> {
      if (writeOwn(Frame.KeepAlive.INSTANCE, server.metrics.droppedKeepAlives)) {
        server.metrics.keepAlivesSent.increment();
        ctx.flush();
      }
    }, period, period, TimeUnit.NANOSECONDS);
  }

  /**
   * Checks every quarter of the idle timeout how long the client has said nothing: from half of
   * it, a client that can answer pings gets one; past all of it, the client is closed. A client
   * we are not reading (rate limit, backpressure) is not silent, only unheard.
   */
  private void scheduleIdleCheck() {
    long timeout = server.config.idleTimeout.toNanos();
    if (timeout == 0 || !canAckPings) {
      return; // a client that cannot answer pings may stay silent for as long as it likes
    }
    lastHeard = System.nanoTime();
    idleTask = ctx.executor().scheduleAtFixedRate(() -> {
      long now = System.nanoTime();
      if (!ctx.channel().config().isAutoRead()) {
        lastHeard = now;
        return;
      }
      long silent = now - lastHeard;
      if (silent >= timeout) {
        server.metrics.idleTimeouts.increment();
        fail("said nothing, not even a pong, for " + TimeUnit.NANOSECONDS.toMillis(silent) + " ms");
      } else if (silent >= timeout / 2 && !idlePinged) {
        byte[] data = new byte[DerpProtocol.MIN_PING_LENGTH];
        ThreadLocalRandom.current().nextBytes(data);
        if (writeOwn(new Frame.Ping(data), server.metrics.droppedIdlePings)) {
          idlePinged = true;
          server.metrics.idlePings.increment();
          ctx.flush();
        }
      }
    }, timeout / 4, timeout / 4, TimeUnit.NANOSECONDS);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    boolean wasActive = state == State.ACTIVE;
    state = State.CLOSED;
    if (keepAliveTask != null) {
      keepAliveTask.cancel(false);
    }
    backpressure.cancel();
    if (writeDeadline != null) {
      writeDeadline.cancel(false);
    }
    if (idleTask != null) {
      idleTask.cancel(false);
    }
    releaseQueued();
    backpressure.closed();
    if (wasActive) {
      server.metrics.clients.decrementAndGet();
      if (server.registry.unregister(this)) {
        server.mesh.localGone(key);
      }
      if (server.registry.get(key) == null && !server.mesh.elsewhere(key)) { // its last connection in the region
        Frame.PeerGone gone = new Frame.PeerGone(key, PeerGoneReason.DISCONNECTED);
        for (NodePublicKey peer : peers) {
          ClientConnection c = server.registry.get(peer);
          if (c != null) {
            c.enqueue(gone);
          }
        }
      }
    }
    ctx.fireChannelInactive();
  }

  private void releaseQueued() {
    Object f;
    while ((f = outbound.poll()) != null) {
      queuedBytes.addAndGet(-queuedSize(f));
      ReferenceCountUtil.release(f);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (closing) {
      return; // writes still queued when we closed fail (void promises report here): nothing new
    }
    if (state == State.AWAITING_CLIENT_INFO) {
      server.metrics.handshakeFailures.increment();
    } else if (state == State.ACTIVE) {
      server.metrics.protocolErrors.increment();
    }
    fail(DerpServer.describe(cause));
  }

  private void fail(String why) {
    if (state != State.CLOSED && !closing) {
      LOG.log(Level.INFO, "closing DERP connection from {0}{1}: {2}", ctx.channel().remoteAddress(),
          key != null ? " (client " + key.shortString() + ")" : "", why);
    }
    closing = true;
    ctx.close();
  }

  private static String describe(Object msg) {
    if (msg instanceof RawSendPacket) {
      return FrameType.SEND_PACKET.toString();
    }
    if (msg instanceof RawForwardPacket) {
      return FrameType.FORWARD_PACKET.toString();
    }
    return msg instanceof Frame f && f.type() != null ? f.type().toString() : msg.getClass().getSimpleName();
  }
}
