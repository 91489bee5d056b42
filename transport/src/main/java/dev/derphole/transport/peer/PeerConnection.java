package dev.derphole.transport.peer;

import dev.derphole.derp.net.IpLiteral;
import dev.derphole.transport.candidate.Candidate;
import dev.derphole.transport.candidate.CandidatePolicy;
import dev.derphole.transport.candidate.LocalCandidates;
import dev.derphole.transport.path.DirectPath;
import dev.derphole.transport.path.PeerPath;
import dev.derphole.transport.path.RelayLink;
import dev.derphole.transport.portmap.PinholeMapper;
import dev.derphole.transport.portmap.PortMapper;
import dev.derphole.transport.quic.QuicTransport;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Everything that carries datagrams to one peer: the UDP socket with its {@link PeerPath} (QUIC's
 * fixed virtual peer) and {@link DirectPath} (disco), STUN, port mapping, and our candidates and
 * the policy for the peer's. It knows nothing of tokens or claims; it talks to its owner through
 * two small interfaces:
 *
 * <pre>
 *   owner (session)                              PeerConnection
 *   ─ relay link: QUIC datagrams over DERP ───▶  relay(RelayLink)      fromRelay(packets) ◀── DERP
 *   ─ candidate signal: sealed control msg ◀───  signal(CandidateSignal) addRemoteCandidates(raw) ◀── peer
 * </pre>
 *
 * The QUIC codec goes on {@link #channel()} behind the path ({@link QuicTransport#serve},
 * {@link QuicTransport#connect}). Today the connection holds one UDP flow (one socket, one
 * direct-path finder); {@link Flow} is the unit a connection with several would hold a list of.
 */
public final class PeerConnection implements AutoCloseable {
  /** UPnP needs several round trips, and miniupnpd may wait up to a second to answer SSDP. */
  public static final Duration PORT_MAP_BUDGET = Duration.ofSeconds(3);
  /** Our candidates are sent again this often while there is no direct path (signals can be lost). */
  public static final long CANDIDATE_RESEND_SECONDS = 3;

  /** What the connection reports: {@code connected-direct}, {@code connected-relay}, {@code candidate}, {@code portmap}. */
  @FunctionalInterface
  public interface Events {
    void event(String name, String detail);
  }

  /**
   * @param forceRelay never send UDP: no direct path, no candidates
   * @param allowLoopbackCandidates offer and accept 127.0.0.0/8 candidates (both peers on one machine)
   */
  public record Options(boolean forceRelay, boolean allowLoopbackCandidates, Events events) {}

  /** One UDP socket and what finds a direct path over it. */
  private static final class Flow {
    final DatagramChannel socket;
    /** Null until {@link #startDirect}, and with --force-relay. */
    volatile DirectPath direct;

    Flow(DatagramChannel socket) {
      this.socket = socket;
    }

    int port() {
      return ((InetSocketAddress) socket.localAddress()).getPort();
    }
  }

  private final Options options;
  private final PeerPath path;
  private final Flow flow;
  private final Set<String> localCandidates = new CopyOnWriteArraySet<>();
  private volatile CandidateSignal signal;
  private volatile ScheduledFuture<?> resend;
  private volatile PortMapper portMapper;
  private volatile PinholeMapper pinholes;
  private volatile ExecutorService portmapPool;

  private PeerConnection(Options options, PeerPath path, DatagramChannel socket) {
    this.options = options;
    this.path = path;
    this.flow = new Flow(socket);
  }

  /** Binds the UDP socket (every address, a free port) on {@code loop}, with the path in its pipeline. */
  public static PeerConnection open(EventLoop loop, Options options) throws IOException {
    return open(loop, new InetSocketAddress(0), options);
  }

  /** Binds the UDP socket to {@code bind} on {@code loop}. */
  public static PeerConnection open(EventLoop loop, InetSocketAddress bind, Options options) throws IOException {
    PeerPath path = new PeerPath();
    return new PeerConnection(options, path,
        QuicTransport.bind(loop, bind, path, note -> options.events().event("io", note)));
  }

  /** The socket QUIC's codec goes on, behind the path. */
  public DatagramChannel channel() {
    return flow.socket;
  }

  public PeerPath path() {
    return path;
  }

  /** The socket's event loop, which the DERP connection should share (no hand-off per relayed packet). */
  public EventLoop eventLoop() {
    return flow.socket.eventLoop();
  }

  /**
   * Starts looking for a direct path (unless forceRelay): answers disco probes from now on, asks
   * {@code stunServers} for our public address, maps a port on the gateway, and knows our interface
   * addresses.
   *
   * @param discoKey the key both peers MAC their probes with
   * @param issuer which of the two roles we have (a probe carrying our own role is a reflection)
   */
  public void startDirect(byte[] discoKey, boolean issuer, List<InetSocketAddress> stunServers) {
    if (options.forceRelay()) {
      return;
    }
    int port = flow.port();
    for (InetSocketAddress a : LocalCandidates.gather(port, options.allowLoopbackCandidates())) {
      localCandidates.add(Candidate.format(a));
    }
    DirectPath d = new DirectPath(flow.socket.eventLoop(), discoKey, issuer ? 0 : 1, path, new DirectPath.Listener() {
      @Override
      public void onDirect(InetSocketAddress endpoint, Duration rtt, String why) {
        options.events().event("connected-direct", IpLiteral.format(endpoint) + " rtt="
            + String.format("%.1fms", rtt.toNanos() / 1e6) + " (" + why + ")");
      }

      @Override
      public void onRelay(String why) {
        options.events().event("connected-relay", "(" + why + ")");
      }

      @Override
      public void onStunAddress(InetSocketAddress mapped) {
        addLocalCandidate(mapped, "STUN");
      }
    });
    flow.direct = d;
    flow.socket.pipeline().addBefore(QuicTransport.PATH, "direct-path", d);
    startPortMapping(port);
    Thread resolver = new Thread(() -> {
      List<InetSocketAddress> resolved = new ArrayList<>();
      for (InetSocketAddress s : stunServers) {
        InetSocketAddress r = s.isUnresolved() ? new InetSocketAddress(s.getHostString(), s.getPort()) : s;
        if (!r.isUnresolved()) { // both families: an IPv6 answer is our IPv6 address as the world sees it
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

  /**
   * Asks the gateway (UPnP-IGD, NAT-PMP or PCP) to forward a port to our socket: the mapped
   * address becomes a candidate, renewed before its lease ends and deleted on close. Soft: no
   * gateway or no protocol just means no such candidate.
   */
  private void startPortMapping(int port) {
    portmapPool = Executors.newFixedThreadPool(3, r -> { // the IPv4 probe's two paths, and the IPv6 pinhole
      Thread t = new Thread(r, "derphole-portmap");
      t.setDaemon(true);
      return t;
    });
    PortMapper pm = new PortMapper(null, port, portmapPool, line -> options.events().event("portmap", portmapDetail(line)));
    portMapper = pm;
    pm.onChange(m -> addLocalCandidate(m.external(), m.protocol()));
    pm.map(PORT_MAP_BUDGET).thenAccept(m -> m.ifPresent(x -> addLocalCandidate(x.external(), x.protocol())));
    pinholes = PinholeMapper.start(port, localCandidates.stream().flatMap(c -> Candidate.parse(c).stream()).toList(),
        PORT_MAP_BUDGET, portmapPool, line -> options.events().event("portmap", portmapDetail(line)),
        a -> addLocalCandidate(a, "PCP6"));
  }

  /** PortMapper's lines start "portmap=" or "portmap: "; the event already says portmap. */
  public static String portmapDetail(String line) {
    return line.startsWith("portmap=") ? line.substring(8) : line.startsWith("portmap: ") ? line.substring(9) : line;
  }

  private void addLocalCandidate(InetSocketAddress address, String source) {
    if (localCandidates.add(Candidate.format(address))) {
      options.events().event("candidate", Candidate.format(address) + " (" + source + ")");
      sendCandidates();
    }
  }

  /** Our candidates so far (interfaces at once, STUN and port mappings as they come). */
  public List<String> localCandidates() {
    return List.copyOf(localCandidates);
  }

  /** QUIC's packets for the peer that go through the relay go to {@code link} from now on. */
  public void relay(RelayLink link) {
    path.relay(link);
  }

  /** Packets the relay brought from the peer, as one read batch; takes ownership. Any thread. */
  public void fromRelay(List<ByteBuf> packets) {
    path.injectFromRelay(packets);
  }

  /**
   * From now on our candidates go to the peer through {@code signal}: now, whenever a new one is
   * found, and every {@value #CANDIDATE_RESEND_SECONDS} s while there is no direct path.
   */
  public void signal(CandidateSignal signal) {
    this.signal = signal;
    sendCandidates();
    if (flow.direct != null) {
      resend = flow.socket.eventLoop().scheduleAtFixedRate(() -> {
        DirectPath d = flow.direct;
        if (d != null && d.current() == null) {
          sendCandidates();
        }
      }, CANDIDATE_RESEND_SECONDS, CANDIDATE_RESEND_SECONDS, TimeUnit.SECONDS);
    }
  }

  private void sendCandidates() {
    CandidateSignal s = signal;
    if (s != null && flow.direct != null) {
      s.send(localCandidates());
    }
  }

  /** The peer's candidates, as it sent them: what {@link CandidatePolicy} accepts is probed. */
  public void addRemoteCandidates(List<String> raw) {
    DirectPath d = flow.direct;
    if (d == null) {
      return;
    }
    List<InetSocketAddress> ok = new ArrayList<>();
    for (String s : CandidatePolicy.filter(raw, options.allowLoopbackCandidates())) {
      Candidate.parse(s).ifPresent(ok::add);
    }
    d.addRemotes(ok);
  }

  /** The direct endpoint in use, or null while on the relay. */
  public InetSocketAddress directEndpoint() {
    return path.directEndpoint();
  }

  /** "via relay" or "via direct ADDRESS", for --verbose. */
  public String pathDescription() {
    InetSocketAddress d = path.directEndpoint();
    return d == null ? "via relay" : "via direct " + IpLiteral.format(d);
  }

  /** Stops resending, deletes the port mapping (bounded), closes the socket. */
  @Override
  public void close() {
    ScheduledFuture<?> f = resend;
    if (f != null) {
      f.cancel(false);
    }
    PortMapper pm = portMapper;
    if (pm != null) {
      pm.close();
    }
    PinholeMapper ph = pinholes;
    if (ph != null) {
      ph.close();
    }
    ExecutorService pool = portmapPool;
    if (pool != null) {
      pool.shutdownNow();
    }
    flow.socket.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
  }
}
