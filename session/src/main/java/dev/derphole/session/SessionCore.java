package dev.derphole.session;

import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.net.IpLiteral;
import dev.derphole.session.rendezvous.SessionLink;
import dev.derphole.session.claim.Candidate;
import dev.derphole.session.claim.CandidatePolicy;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.rendezvous.ControlChannel;
import dev.derphole.session.rendezvous.LocalCandidates;
import dev.derphole.transport.path.DirectPath;
import dev.derphole.transport.portmap.PortMapper;
import dev.derphole.transport.path.PeerPath;
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
 * What both ends of a session own: the DERP link, the UDP socket with the peer path, the TLS
 * identity, and the QUIC connection once there is one. Closing it closes all of them.
 */
final class SessionCore implements AutoCloseable {
  /** After PeerGone, how long the peer has to show life before we give up on it. */
  static final long PEER_GONE_GRACE_SECONDS = 5;

  final SessionOptions options;
  final NodePrivateKey derpKey;
  final TlsIdentity tls;
  final PeerPath path = new PeerPath();
  final ConnectionWatch watch = new ConnectionWatch(path);
  final SessionLink link;
  final DatagramChannel udp;
  volatile QuicChannel quic;
  private volatile ScheduledFuture<?> peerGoneCheck;
  /** The direct-path finder; null with --force-relay. */
  volatile DirectPath direct;
  private volatile ControlChannel control;
  private volatile ScheduledFuture<?> resend;
  private volatile PortMapper portMapper;
  private volatile java.util.concurrent.ExecutorService portmapPool;
  /** UPnP needs several round trips, and miniupnpd may wait up to a second to answer SSDP. */
  static final java.time.Duration PORT_MAP_BUDGET = java.time.Duration.ofSeconds(3);
  static final long CANDIDATE_RESEND_SECONDS = 3;
  private final java.util.Set<String> localCandidates = new java.util.concurrent.CopyOnWriteArraySet<>();

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
      udp = QuicTransport.bind(loop, new InetSocketAddress(0), path, note -> options.reporter().event("io", note));
    } catch (IOException e) {
      link.close();
      throw new SessionException(e.getMessage(), e);
    }
  }

  /**
   * Starts looking for a direct path (unless --force-relay): answers disco probes from now on,
   * asks the relay's STUN servers for our public address, and knows our interface addresses.
   */
  void startDirect(SessionKeys keys, boolean issuer, java.util.List<InetSocketAddress> stunServers) {
    if (options.forceRelay()) {
      return;
    }
    int port = ((InetSocketAddress) udp.localAddress()).getPort();
    for (InetSocketAddress a : LocalCandidates.gather(port, options.allowLoopbackCandidates())) {
      localCandidates.add(Candidate.format(a));
    }
    DirectPath d = new DirectPath(udp.eventLoop(), keys.discoKey(), issuer ? 0 : 1, path, new DirectPath.Listener() {
      @Override
      public void onDirect(InetSocketAddress endpoint, java.time.Duration rtt, String why) {
        options.reporter().event("connected-direct", IpLiteral.format(endpoint) + " rtt=" + String.format("%.1fms", rtt.toNanos() / 1e6)
            + " (" + why + ")");
      }

      @Override
      public void onRelay(String why) {
        options.reporter().event("connected-relay", "(" + why + ")");
      }

      @Override
      public void onStunAddress(InetSocketAddress mapped) {
        addLocalCandidate(mapped, "STUN");
      }
    });
    direct = d;
    udp.pipeline().addBefore(QuicTransport.PATH, "direct-path", d);
    startPortMapping(port);
    Thread resolver = new Thread(() -> {
      java.util.List<InetSocketAddress> resolved = new java.util.ArrayList<>();
      for (InetSocketAddress s : stunServers) {
        InetSocketAddress r = s.isUnresolved() ? new InetSocketAddress(s.getHostString(), s.getPort()) : s;
        if (!r.isUnresolved() && r.getAddress() instanceof java.net.Inet4Address) {
          resolved.add(r);
        }
      }
      if (!resolved.isEmpty()) {
        d.stun(resolved);
      }
    }, "stun-resolve");
    resolver.setDaemon(true);
    resolver.start();
  }

  /** "via relay" or "via direct ADDRESS", for --verbose. */
  String pathDescription() {
    InetSocketAddress d = path.directEndpoint();
    return d == null ? "via relay" : "via direct " + IpLiteral.format(d);
  }

  /**
   * Asks the gateway (UPnP-IGD, NAT-PMP or PCP) to forward a port to our socket: the mapped
   * address becomes a candidate, renewed before its lease ends and deleted when the session
   * closes. Soft: no gateway or no protocol just means no such candidate.
   */
  private void startPortMapping(int port) {
    portmapPool = java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "derphole-portmap");
      t.setDaemon(true);
      return t;
    });
    PortMapper pm = new PortMapper(null, port, portmapPool,
        line -> options.reporter().event("portmap", portmapDetail(line)));
    portMapper = pm;
    pm.onChange(m -> addLocalCandidate(m.external(), m.protocol()));
    pm.map(PORT_MAP_BUDGET).thenAccept(m -> m.ifPresent(x -> addLocalCandidate(x.external(), x.protocol())));
  }

  /** PortMapper's lines start "portmap=" or "portmap: "; the event already says portmap. */
  static String portmapDetail(String line) {
    return line.startsWith("portmap=") ? line.substring(8) : line.startsWith("portmap: ") ? line.substring(9) : line;
  }

  private void addLocalCandidate(InetSocketAddress address, String source) {
    if (localCandidates.add(Candidate.format(address))) {
      options.reporter().event("candidate", Candidate.format(address) + " (" + source + ")");
      sendCandidates();
    }
  }

  /** Our candidates so far (interfaces now, STUN and port mappings as they come). */
  java.util.List<String> localCandidates() {
    return java.util.List.copyOf(localCandidates);
  }

  /** After the claim: the peer's candidates to probe, and the channel for later updates. */
  void startControl(SessionKeys keys, byte[] sessionId, boolean issuer, NodePublicKey peer, java.util.List<String> peerCandidates) {
    control = new ControlChannel(keys, sessionId, issuer, peer);
    addRemotes(peerCandidates);
    sendCandidates();
    if (direct != null) {
      // Control messages ride DERP and can be lost: repeat ours while there is no direct path.
      resend = udp.eventLoop().scheduleAtFixedRate(() -> {
        DirectPath d = direct;
        if (d != null && d.current() == null) {
          sendCandidates();
        }
      }, CANDIDATE_RESEND_SECONDS, CANDIDATE_RESEND_SECONDS, TimeUnit.SECONDS);
    }
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
      addRemotes(cs.candidates());
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

  private void addRemotes(java.util.List<String> raw) {
    DirectPath d = direct;
    if (d == null) {
      return;
    }
    java.util.List<InetSocketAddress> ok = new java.util.ArrayList<>();
    for (String s : CandidatePolicy.filter(raw, options.allowLoopbackCandidates())) {
      Candidate.parse(s).ifPresent(ok::add);
    }
    d.addRemotes(ok);
  }

  private void sendCandidates() {
    ControlChannel c = control;
    if (c != null && direct != null) {
      link.send(c.peer(), c.candidates(localCandidates()));
    }
  }

  /** Routes the peer's packets to the path, and from now on watches for it leaving the relay. */
  void attach(NodePublicKey peer) {
    link.attach(peer, path);
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
    QuicChannel q = quic;
    if (q != null && q.isActive()) {
      q.close(true, ConnectionWatch.CLOSE_DONE, Unpooled.EMPTY_BUFFER).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
    for (ScheduledFuture<?> f : new ScheduledFuture<?>[] {peerGoneCheck, resend}) {
      if (f != null) {
        f.cancel(false);
      }
    }
    PortMapper pm = portMapper;
    if (pm != null) {
      pm.close(); // deletes the mapping (bounded)
    }
    java.util.concurrent.ExecutorService pool = portmapPool;
    if (pool != null) {
      pool.shutdownNow();
    }
    udp.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    link.close();
  }
}
