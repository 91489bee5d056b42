package dev.derphole.session;

import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.rendezvous.ControlChannel;
import dev.derphole.session.rendezvous.SessionLink;
import dev.derphole.transport.path.PeerPath;
import dev.derphole.transport.peer.PeerConnection;
import dev.derphole.transport.quic.QuicTransport;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What both ends of a session own: the DERP link, the peer connection (UDP socket, peer path,
 * direct path, candidates: {@link PeerConnection}), the TLS identity, the sealed control channel,
 * and the QUIC connection once there is one. Closing it closes all of them. The DERP link is the
 * peer connection's relay link, and the control channel carries its candidates.
 */
final class SessionCore implements AutoCloseable {
  /** After PeerGone, how long the peer has to show life before we give up on it. */
  static final long PEER_GONE_GRACE_SECONDS = 5;

  final SessionOptions options;
  final NodePrivateKey derpKey;
  final TlsIdentity tls;
  final SessionLink link;
  final PeerConnection peer;
  /** The peer connection's socket and path, which QUIC goes on. */
  final DatagramChannel udp;
  final PeerPath path;
  final ConnectionWatch watch;
  volatile QuicChannel quic;
  /** Lanes beside lane 0 (issue #34); none until the claim agreed on more than one. */
  volatile DirectLanes lanes;
  /** What takes lanes that come up (the striped stream); null: lanes are refused. */
  volatile DirectLanes.User laneUser;
  private volatile java.util.List<InetSocketAddress> stunServers = java.util.List.of();
  private volatile ScheduledFuture<?> peerGoneCheck;
  private volatile ControlChannel control;

  /** After PeerGone, how long the peer has to show life; derptun legs wait longer (a relay restart). */
  volatile long peerGoneGraceSeconds = PEER_GONE_GRACE_SECONDS;

  SessionCore(SessionOptions options, dev.derphole.derp.client.RegionNodes relay) throws SessionException, InterruptedException {
    this(options, relay, NodePrivateKey.generate(), TlsIdentity.generate());
  }

  SessionCore(SessionOptions options, DerpEndpoint relay) throws SessionException, InterruptedException {
    this(options, dev.derphole.derp.client.RegionNodes.of(relay), NodePrivateKey.generate(), TlsIdentity.generate());
  }

  /** With given identities: derptun's server keeps its TLS key in its token. */
  SessionCore(SessionOptions options, DerpEndpoint relay, NodePrivateKey derpKey, TlsIdentity tls)
      throws SessionException, InterruptedException {
    this(options, dev.derphole.derp.client.RegionNodes.of(relay), derpKey, tls);
  }

  SessionCore(SessionOptions options, dev.derphole.derp.client.RegionNodes relay, NodePrivateKey derpKey, TlsIdentity tls)
      throws SessionException, InterruptedException {
    this.options = options;
    this.derpKey = derpKey;
    this.tls = tls;
    QuicTransport.preload(tls);
    // One event loop for the DERP connection and the QUIC socket: a relayed packet then crosses
    // from one to the other without a task hand-off between threads.
    io.netty.channel.EventLoop loop = options.group().next();
    this.link = new SessionLink(relay, derpKey, loop);
    try {
      link.start(SessionOptions.RELAY_TIMEOUT);
    } catch (IOException e) {
      link.close();
      String why = e instanceof dev.derphole.derp.client.RelayCertificateException ? "" : "cannot reach the relay: ";
      throw new SessionException(why + e.getMessage(), e);
    }
    link.onConnectionEvent(options.reporter()::event);
    try {
      peer = PeerConnection.open(loop, new PeerConnection.Options(options.forceRelay(), options.allowLoopbackCandidates(),
          options.reporter()::event));
    } catch (IOException e) {
      link.close();
      throw new SessionException(e.getMessage(), e);
    }
    udp = peer.channel();
    path = peer.path();
    watch = new ConnectionWatch(path);
    lanes = DirectLanes.none(this);
  }

  /**
   * Starts looking for a direct path (unless --force-relay): answers disco probes from now on,
   * asks the relay's STUN servers for our public address, and knows our interface addresses.
   */
  void startDirect(SessionKeys keys, boolean issuer, java.util.List<InetSocketAddress> stunServers) {
    this.stunServers = java.util.List.copyOf(stunServers);
    peer.startDirect(keys.discoKey(), issuer, stunServers);
  }

  /** After the claim agreed on {@code agreed} lanes (after {@link #startControl}). */
  void startLanes(int agreed, boolean issuer, SessionKeys keys, byte[] peerTlsKey) {
    if (agreed > 1) {
      lanes = new DirectLanes(this, agreed, issuer, keys, peerTlsKey, stunServers, control);
    }
  }

  /** "via relay" or "via direct ADDRESS", for --verbose. */
  String pathDescription() {
    return peer.pathDescription();
  }

  /** PortMapper's lines start "portmap=" or "portmap: "; the event already says portmap. */
  static String portmapDetail(String line) {
    return PeerConnection.portmapDetail(line);
  }

  /** Our candidates so far (interfaces now, STUN and port mappings as they come). */
  java.util.List<String> localCandidates() {
    return peer.localCandidates();
  }

  /** After the claim: the peer's candidates to probe, and the channel for later updates. */
  void startControl(SessionKeys keys, byte[] sessionId, boolean issuer, NodePublicKey peerKey, java.util.List<String> peerCandidates) {
    ControlChannel c = new ControlChannel(keys, sessionId, issuer, peerKey);
    control = c;
    peer.addRemoteCandidates(peerCandidates);
    peer.signal(candidates -> link.send(c.peer(), c.candidates(candidates)));
  }

  /** Handles a control envelope from the peer; false if it was not one. */
  boolean onControl(NodePublicKey source, byte[] packet) {
    ControlChannel c = control;
    if (c == null) {
      return false;
    }
    java.util.Optional<ControlChannel.Message> m = c.onPacket(source, packet);
    if (m.isEmpty()) {
      return false;
    }
    if (m.get() instanceof ControlChannel.Candidates cs) {
      peer.addRemoteCandidates(cs.candidates());
    } else if (m.get() instanceof ControlChannel.LaneCandidates lc) {
      lanes.onCandidates(lc.lane(), lc.candidates());
    } else if (m.get() instanceof ControlChannel.Abort a) {
      watch.localReason(a.reason().equals("interrupted") ? "the other side was interrupted"
          : "the other side failed: " + a.reason());
      QuicChannel q = quic;
      if (q != null) {
        q.close(true, ConnectionWatch.CLOSE_FAILED, Unpooled.EMPTY_BUFFER);
      }
    }
    return true;
  }

  /** Routes the peer's packets to the path, and from now on watches for it leaving the relay. */
  void attach(NodePublicKey peerKey) {
    link.attach(peerKey, peer);
    options.reporter().event("connected-relay", "");
    link.onPeerGone((k, reason) -> {
      long before = path.packetsIn();
      peerGoneCheck = udp.eventLoop().schedule(() -> {
        if (path.packetsIn() == before && quic != null) {
          watch.localReason("the other side disconnected from the relay");
          quic.close(true, ConnectionWatch.CLOSE_FAILED, Unpooled.EMPTY_BUFFER);
        }
      }, peerGoneGraceSeconds, TimeUnit.SECONDS);
    });
  }

  /** Why the connection ended, for the user; {@code fallback} when we know nothing better. */
  String reason(String fallback) {
    String r = watch.reason();
    return r != null ? r : fallback;
  }

  /**
   * Ends the connection telling the other side why (Ctrl-C or a local failure): QUIC's own close,
   * and a sealed abort over the relay in case that close is lost; then waits (bounded) until both
   * have left, since the process is usually about to exit.
   */
  void abort(int code, String why) {
    ControlChannel c = control;
    if (c != null) {
      link.send(c.peer(), c.abort(why));
    }
    QuicChannel q = quic;
    if (q != null && q.isActive()) {
      q.close(true, code, Unpooled.copiedBuffer(why, StandardCharsets.UTF_8)).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
    link.flush(java.time.Duration.ofSeconds(1));
  }

  /** Waits, at most {@code limit}, until the connection is closed (by either side); at once if there is none. */
  void awaitClosed(java.time.Duration limit) {
    QuicChannel q = quic;
    if (q != null) {
      q.closeFuture().awaitUninterruptibly(limit.toMillis());
    }
  }

  @Override
  public void close() {
    lanes.close();
    QuicChannel q = quic;
    if (q != null && q.isActive()) {
      q.close(true, ConnectionWatch.CLOSE_DONE, Unpooled.EMPTY_BUFFER).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
    ScheduledFuture<?> f = peerGoneCheck;
    if (f != null) {
      f.cancel(false);
    }
    peer.close(); // deletes a port mapping (bounded), closes the socket
    link.close();
  }
}
