package dev.derphole.session;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.net.IpLiteral;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.rendezvous.ControlChannel;
import dev.derphole.transport.peer.PeerConnection;
import dev.derphole.transport.quic.QuicTransport;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The direct lanes of a session beside its own connection (lane 0), issue #34. Lane I (1..15) is a
 * {@link PeerConnection} of its own: its own UDP socket and source port on its own event loop, its
 * own direct-path discovery (disco with the lane's key, {@link SessionKeys#laneDiscoKey}, STUN, a
 * port mapping), its candidates exchanged as {@link ControlChannel.LaneCandidates}, and its own QUIC
 * connection (the issuer serves, the claimant dials) pinned to the same two TLS keys as lane 0. A
 * lane has no relay: when its direct path is lost it is closed.
 *
 * <pre>
 *   (lane 0 direct) ──open(I)──▶ PROBING ──direct──▶ QUIC handshake ──▶ UP ──direct lost / QUIC closed──▶ CLOSED
 *   (peer's lane-candidates for I) ──open(I)──┘
 * </pre>
 *
 * The side that sends the data decides how many lanes to {@link #open}; the other opens a lane when
 * the first candidates for it arrive (at most the number agreed). Nothing waits for a lane: the
 * {@link User} hears when one is up, and the transfer takes it from then on.
 */
public final class DirectLanes implements AutoCloseable {
  /** How often we look whether lane 0 has a direct path yet. */
  static final long DIRECT_CHECK_MILLIS = 100;

  /**
   * What uses the lanes: the striped stream. The side that receives the data opens each lane's
   * stream (when {@link #connected}); its first bytes, arriving at the sender, prove the peer
   * accepted the lane's TLS key (a QUIC client finishes its handshake before the server has checked
   * its key), and only then does the sender put chunks on it.
   */
  public interface User {
    /** Lane {@code lane}'s QUIC connection is up. Called on the lane's event loop. */
    void connected(int lane, QuicChannel quic);

    /** The handler for streams the peer opens on lane {@code lane}'s connection. */
    ChannelHandler streamHandler(int lane);
  }

  private final SessionCore core;
  private final int agreed;
  private final boolean issuer;
  private final SessionKeys keys;
  private final byte[] peerTlsKey;
  private final List<InetSocketAddress> stunServers;
  private final ControlChannel control;
  private final NodePublicKey peerDerpKey;
  private final Lane[] lanes = new Lane[16];
  private final List<String>[] early;
  /** Opens sockets off the event loops (a bind waits for its loop; the DERP link's loop is lane 0's). */
  private final java.util.concurrent.ExecutorService opener = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "derphole-lanes");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean closed;
  private volatile int wanted = 1;
  private volatile ScheduledFuture<?> directCheck;
  /** The TLS identity lanes present: the session's (a test gives another to see it refused). */
  volatile dev.derphole.transport.quic.TlsIdentity laneTls;

  private final class Lane {
    final int index;
    final PeerConnection connection;
    volatile QuicChannel quic;
    volatile String closeReason;
    volatile boolean endedByPeer;
    boolean dialed;

    Lane(int index, PeerConnection connection) {
      this.index = index;
      this.connection = connection;
    }

    String describe() {
      InetSocketAddress remote = connection.directEndpoint();
      int port = ((InetSocketAddress) connection.channel().localAddress()).getPort();
      return index + " " + port + "->" + (remote == null ? "?" : IpLiteral.format(remote));
    }
  }

  @SuppressWarnings("unchecked")
  DirectLanes(SessionCore core, int agreed, boolean issuer, SessionKeys keys, byte[] peerTlsKey,
              List<InetSocketAddress> stunServers, ControlChannel control) {
    this.core = core;
    this.agreed = Math.max(1, Math.min(agreed, 16));
    this.issuer = issuer;
    this.keys = keys;
    this.peerTlsKey = peerTlsKey.clone();
    this.stunServers = List.copyOf(stunServers);
    this.control = control;
    this.peerDerpKey = control == null ? null : control.peer();
    this.early = new List[16];
    this.laneTls = core.tls;
  }

  /** No lanes beyond lane 0 (one lane agreed, or a session that does not use them). */
  static DirectLanes none(SessionCore core) {
    return new DirectLanes(core, 1, false, null, new byte[0], List.of(), null);
  }

  /** How many lanes both sides allow (lane 0 included). */
  public int agreed() {
    return agreed;
  }

  /** Lanes are possible at all: more than one agreed and not forced onto the relay. */
  public boolean possible() {
    return agreed > 1 && !core.options.forceRelay();
  }

  /**
   * Opens lanes up to {@code count} in all (lane 0 included; at most {@link #agreed}) once lane 0
   * has a direct path: at once if it has one, else as soon as it does. Lanes already open stay.
   */
  public synchronized void open(int count) {
    wanted = Math.max(wanted, Math.min(count, agreed));
    if (!possible() || closed) {
      return;
    }
    if (direct()) {
      opener.execute(this::openWanted);
    } else if (directCheck == null) {
      directCheck = core.udp.eventLoop().scheduleAtFixedRate(() -> {
        if (direct()) {
          directCheck.cancel(false);
          opener.execute(this::openWanted);
        }
      }, DIRECT_CHECK_MILLIS, DIRECT_CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /** Whether lane 0 has a direct path now (lanes open only then). */
  public boolean direct() {
    return core.peer.directEndpoint() != null;
  }

  /** Lanes open now (lane 0 included), up or not yet. */
  public synchronized int opened() {
    int n = 1;
    for (int i = 1; i < agreed; i++) {
      n += lanes[i] != null ? 1 : 0;
    }
    return n;
  }

  /** For tests: lane {@code lane}'s connection (its socket), or null. */
  PeerConnection connection(int lane) {
    Lane l = lanes[lane];
    return l == null ? null : l.connection;
  }

  /** "I PORT->ADDRESS" of lane {@code lane} (1..15), for --verbose. */
  public String describe(int lane) {
    Lane l = lanes[lane];
    return l == null ? String.valueOf(lane) : l.describe();
  }

  /** Why lane {@code lane} closed, if we know. */
  public String closeReason(int lane) {
    Lane l = lanes[lane];
    String r = l == null ? null : l.closeReason;
    return r != null ? r : "its QUIC connection closed";
  }

  private synchronized void openWanted() {
    for (int i = 1; i < wanted; i++) {
      openLane(i);
    }
  }

  /** The peer's candidates for lane {@code lane}: the peer opened it, so we open it too. */
  synchronized void onCandidates(int lane, List<String> candidates) {
    if (!possible() || closed || lane >= agreed) {
      return;
    }
    Lane l = lanes[lane];
    if (l == null) {
      early[lane] = List.copyOf(candidates);
      opener.execute(() -> openLane(lane));
      return;
    }
    l.connection.addRemoteCandidates(candidates);
  }

  private synchronized void openLane(int index) {
    if (lanes[index] != null || closed) {
      return;
    }
    PeerConnection c;
    try {
      c = PeerConnection.open(loopFor(index), new PeerConnection.Options(false, core.options.allowLoopbackCandidates(),
          (name, detail) -> laneEvent(index, name)));
    } catch (IOException e) {
      core.options.reporter().event("lane-close", index + " (" + e.getMessage() + ")");
      return;
    }
    Lane l = new Lane(index, c);
    lanes[index] = l;
    c.startDirect(keys.laneDiscoKey(index), issuer, stunServers);
    c.signal(candidates -> core.link.send(peerDerpKey, control.laneCandidates(index, candidates)));
    List<String> e = early[index];
    if (e != null) {
      c.addRemoteCandidates(e);
      early[index] = null;
    }
    if (issuer) {
      QuicTransport.serve(c.channel(), laneTls, peerTlsKey, new Connected(l), streamHandler(index));
    }
  }

  /** Asks the user for a handler when the peer's stream arrives; closes it if nothing uses lanes. */
  private ChannelHandler streamHandler(int index) {
    return new io.netty.channel.ChannelInitializer<io.netty.handler.codec.quic.QuicStreamChannel>() {
      @Override
      protected void initChannel(io.netty.handler.codec.quic.QuicStreamChannel ch) {
        User u = core.laneUser;
        if (u == null) {
          ch.close();
        } else {
          ch.pipeline().addLast(u.streamHandler(index));
        }
      }
    };
  }

  /** A lane's own events: its direct path found (the claimant dials) or lost (the lane ends). */
  private void laneEvent(int index, String name) {
    Lane l = lanes[index];
    if (l == null) {
      return;
    }
    if (name.equals("connected-direct") && !issuer) {
      synchronized (this) {
        if (l.dialed || closed) {
          return;
        }
        l.dialed = true;
      }
      QuicTransport.connect(l.connection.channel(), l.connection.path(), laneTls, peerTlsKey, new Connected(l),
          streamHandler(index)).addListener(f -> {
            if (!f.isSuccess()) {
              l.closeReason = "the lane's QUIC handshake failed: " + f.cause().getMessage();
              core.options.reporter().event("lane-close", index + " (" + l.closeReason + ")");
              l.connection.close();
            }
          });
    } else if (name.equals("connected-relay")) {
      l.closeReason = "its direct path was lost";
      QuicChannel q = l.quic;
      if (q != null) {
        q.close(true, ConnectionWatch.CLOSE_DONE, Unpooled.EMPTY_BUFFER);
      }
    }
  }

  /** Lane {@code index}'s QUIC connection is up (pinned keys checked by the handshake). */
  private final class Connected extends ChannelInboundHandlerAdapter {
    private final Lane lane;

    Connected(Lane lane) {
      this.lane = lane;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof io.netty.handler.codec.quic.QuicConnectionCloseEvent e) {
        if (e.isTlsError() && lane.closeReason == null) {
          lane.closeReason = "the other side refused its TLS key";
        } else if (e.isApplicationClose() && e.error() == ConnectionWatch.CLOSE_DONE) {
          lane.endedByPeer = true; // the session is over: nothing to report
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      QuicChannel q = (QuicChannel) ctx.channel();
      lane.connection.path().quic(q);
      lane.quic = q;
      q.closeFuture().addListener(f -> {
        if (!closed && !lane.endedByPeer) {
          core.options.reporter().event("lane-close", lane.index + " (" + closeReason(lane.index) + ")");
        }
      });
      User u = core.laneUser;
      if (closed || u == null) {
        q.close();
      } else {
        u.connected(lane.index, q);
      }
      ctx.fireChannelActive();
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  /** An event loop other than lane 0's (and spread over the others), so each lane has a core if there are several. */
  private EventLoop loopFor(int index) {
    EventLoopGroup group = core.options.group();
    EventLoop zero = core.udp.eventLoop();
    List<EventLoop> others = new ArrayList<>();
    for (EventExecutor e : group) {
      if (e != zero && e instanceof EventLoop l) {
        others.add(l);
      }
    }
    return others.isEmpty() ? zero : others.get((index - 1) % others.size());
  }

  @Override
  public synchronized void close() {
    closed = true;
    opener.shutdownNow();
    ScheduledFuture<?> f = directCheck;
    if (f != null) {
      f.cancel(false);
    }
    for (Lane l : lanes) {
      if (l == null) {
        continue;
      }
      QuicChannel q = l.quic;
      if (q != null && q.isActive()) {
        q.close(true, ConnectionWatch.CLOSE_DONE, Unpooled.EMPTY_BUFFER).awaitUninterruptibly(1, TimeUnit.SECONDS);
      }
      l.connection.close();
    }
  }
}
