package dev.derphole.transport.path;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The datagram path to one peer, as a handler that sits in front of the QUIC codec on the
 * session's UDP channel:
 *
 * <pre>
 *   QUIC codec ──write(to virtual peer)──▶ PeerPath ──▶ DERP relay (RelayLink)  or  direct UDP endpoint
 *   QUIC codec ◀──read(from virtual peer)── PeerPath ◀── relayed packets (injected) or UDP from the endpoint
 * </pre>
 *
 * QUIC only ever sees two fixed, loopback-range virtual addresses, so switching the path underneath
 * between relay and direct is invisible to it: no migration, no restart. Anything addressed to an
 * unknown address is dropped, so a virtual address can never leak onto the network.
 *
 * <p>While the direct path has been silent for {@link #SUSPECT} (nothing from the peer over it:
 * no QUIC that the connection accepted, no authenticated disco), every packet also goes through
 * the relay, until the peer is heard again or {@link DirectPath} gives the direct path up. Without that overlap, a direct path that dies
 * mid-transfer stalls QUIC for the whole wait before the fallback and then for the rest of QUIC's
 * backed-off probe timer (5-10 s in all, measured in the NAT lab); with it, QUIC's next probe gets through.
 * The peer's QUIC drops whichever copy comes second. Tailscale's magicsock does the same while
 * its best address is not confirmed.
 *
 * <p>A datagram from the endpoint's address is not by itself a word from the peer: anyone on the
 * path can send one with that source. QUIC over the direct path counts as life only when the
 * connection accepted it (quiche's count of packets received rose across the read batch; checked
 * at most every {@link #LIFE_CHECK}), disco only when {@link DirectPath} authenticated it.
 */
public final class PeerPath extends ChannelDuplexHandler {
  /** The largest packet PeerPath carries to the peer (in segments on the direct path). */
  public static final int MAX_PACKET = Segments.MAX_PACKET;
  /** The largest datagram it sends over the direct path. */
  public static final int MAX_DATAGRAM = Segments.DATAGRAM;
  /**
   * Silence on the direct path after which packets also go through the relay. A busy session
   * hears QUIC all the time, so a live path is silent this long only while the session idles
   * between {@link DirectPath}'s keep-alive pings, and then it sends little.
   */
  public static final java.time.Duration SUSPECT = java.time.Duration.ofSeconds(1);
  private static final long SUSPECT_NANOS = SUSPECT.toNanos();
  /** While the direct path was heard this recently, QUIC's acceptance is not asked again (it costs a native call). */
  static final java.time.Duration LIFE_CHECK = java.time.Duration.ofMillis(100);
  private static final long LIFE_CHECK_NANOS = LIFE_CHECK.toNanos();
  /** {@code -Dderphole.gso=false} sends segments one datagram per system call (to compare, or to work around). */
  static final boolean GSO_ALLOWED = !"false".equals(System.getProperty("derphole.gso"));
  private static final AtomicInteger NEXT = new AtomicInteger(2);
  private static final System.Logger LOG = System.getLogger(PeerPath.class.getName());

  /** The address QUIC uses for us, and for the peer. */
  private final InetSocketAddress virtualLocal;
  private final InetSocketAddress virtualPeer;
  private volatile RelayLink relay;
  private volatile InetSocketAddress direct;
  /** Endpoints proven (by disco) to be the peer: their QUIC packets are accepted even before we send there. */
  private final java.util.Set<InetSocketAddress> trusted = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile long lastDirectIn;
  /** The connection whose acceptance of a packet makes it a sign of life; null before there is one. */
  private volatile io.netty.handler.codec.quic.QuicChannel quic;
  /** Event loop only: quiche's received-packet count before this read batch's first direct datagram; -1 if none to check. */
  private long acceptedBefore = -1;
  private final LongSupplier clock;
  private ChannelHandlerContext ctx;
  private final LongAdder relayedOut = new LongAdder();
  private final LongAdder relayedIn = new LongAdder();
  private final LongAdder relayDrops = new LongAdder();
  private final LongAdder directOut = new LongAdder();
  private final LongAdder directIn = new LongAdder();
  private final LongAdder overlapOut = new LongAdder();
  private final LongAdder splitOut = new LongAdder();
  private final LongAdder joinedIn = new LongAdder();
  private final LongAdder quicHeard = new LongAdder();
  /** Event loop only: the number of the next packet split into segments. */
  private int nextSplit;
  /** Event loop only: packets coming in as segments. */
  private Segments.Reassembly reassembly;
  /** Event loop only: segments leave through UDP GSO (epoll, and not failed yet). */
  private boolean gso;
  private final LongAdder gsoOut = new LongAdder();

  public PeerPath() {
    this(System::nanoTime);
  }

  /** {@code clock}: {@link System#nanoTime()}, or a test's. */
  PeerPath(LongSupplier clock) {
    this.clock = clock;
    int n = NEXT.getAndIncrement() & 0xffff;
    // 127.77.x.y: loopback range, so a leaked virtual address could never reach a network.
    this.virtualLocal = new InetSocketAddress("127.77.0.1", 1);
    this.virtualPeer = new InetSocketAddress("127.77." + ((n >> 8) & 0xff) + "." + (n & 0xff), 2);
  }

  public InetSocketAddress virtualLocal() {
    return virtualLocal;
  }

  public InetSocketAddress virtualPeer() {
    return virtualPeer;
  }

  /** Where relayed packets go; null drops them (no peer yet). */
  public void relay(RelayLink link) {
    this.relay = link;
  }

  /**
   * Sends directly to this UDP endpoint from now on; null goes back to the relay. The peer was
   * just heard there (a path is promoted on its answer), so the path starts out trusted.
   */
  public void direct(InetSocketAddress endpoint) {
    if (endpoint != null) {
      lastDirectIn = clock.getAsLong();
    }
    this.direct = endpoint;
  }

  /** The peer was heard over the direct path (authenticated disco; QUIC is seen here): it is alive. */
  public void heardDirect() {
    lastDirectIn = clock.getAsLong();
  }

  /** The QUIC connection over this path: the packets it accepts from the direct path are signs of life. */
  public void quic(io.netty.handler.codec.quic.QuicChannel connection) {
    this.quic = connection;
  }

  /** This path's clock: {@link System#nanoTime()} or a test's. */
  long now() {
    return clock.getAsLong();
  }

  /** Packets the connection accepted (decrypted) so far; -1 if there is none or it cannot say now. */
  private long quicAccepted() {
    io.netty.handler.codec.quic.QuicChannel q = quic;
    if (q == null || !q.isActive()) {
      return -1;
    }
    io.netty.util.concurrent.Future<io.netty.handler.codec.quic.QuicConnectionStats> f = q.collectStats();
    return f.isDone() && f.isSuccess() ? f.getNow().recv() : -1; // at once on the event loop
  }

  public InetSocketAddress directEndpoint() {
    return direct;
  }

  /** Accept QUIC datagrams from this endpoint: disco proved the peer is there. */
  public void trust(InetSocketAddress endpoint) {
    trusted.add(endpoint);
  }

  /** The clock's time of the last authenticated word (accepted QUIC or disco) from the peer over direct UDP; 0 if none yet. */
  public long lastDirectIn() {
    return lastDirectIn;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.reassembly = new Segments.Reassembly(ctx.alloc());
    this.gso = GSO_ALLOWED && ctx.channel() instanceof io.netty.channel.epoll.EpollDatagramChannel
        && io.netty.channel.epoll.EpollDatagramChannel.isSegmentedDatagramPacketSupported();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    reassembly.clear();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    reassembly.clear();
    ctx.fireChannelInactive();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!(msg instanceof DatagramPacket dp)) {
      ctx.write(msg, promise);
      return;
    }
    if (!virtualPeer.equals(dp.recipient())) {
      dp.release();
      promise.trySuccess();
      return;
    }
    InetSocketAddress to = direct;
    if (to != null) {
      directOut.increment();
      ByteBuf packet = dp.content();
      RelayLink link = relay;
      if (link != null && clock.getAsLong() - lastDirectIn > SUSPECT_NANOS) {
        overlapOut.increment();
        link.send(packet.retainedDuplicate()); // a copy, in case the direct path is dead
      }
      if (packet.readableBytes() <= Segments.DATAGRAM) {
        ctx.write(new DatagramPacket(packet, to), promise);
        return;
      }
      splitOut.increment();
      if (gso) {
        // One system call and one trip through the network stack for all the segments.
        ByteBuf all = Segments.splitContiguous(packet, nextSplit++, ctx.alloc());
        ChannelPromise sent = ctx.newPromise().addListener(f -> {
          if (!f.isSuccess() && gso) {
            gso = false; // e.g. EIO: the route's device cannot offload the checksum
            LOG.log(System.Logger.Level.DEBUG, "UDP GSO failed ({0}); sending segments one by one", f.cause());
          }
          promise.trySuccess(); // the codec paces on the write; the lost packet is QUIC's to resend
        });
        gsoOut.increment();
        ctx.write(new io.netty.channel.epoll.SegmentedDatagramPacket(all, Segments.DATAGRAM, to), sent);
        return;
      }
      List<ByteBuf> segments = Segments.split(packet, nextSplit++, ctx.alloc());
      for (int i = 0; i < segments.size() - 1; i++) {
        ctx.write(new DatagramPacket(segments.get(i), to), ctx.voidPromise());
      }
      ctx.write(new DatagramPacket(segments.get(segments.size() - 1), to), promise);
      return;
    }
    RelayLink link = relay;
    if (link == null || !link.send(dp.content())) {
      if (link == null) {
        dp.release();
      }
      relayDrops.increment();
    } else {
      relayedOut.increment();
    }
    promise.trySuccess(); // a datagram: lost packets are QUIC's business
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof DatagramPacket dp) {
      InetSocketAddress to = direct;
      if ((to != null && to.equals(dp.sender())) || trusted.contains(dp.sender())) {
        if (acceptedBefore < 0 && clock.getAsLong() - lastDirectIn > LIFE_CHECK_NANOS) {
          acceptedBefore = quicAccepted();
        }
        ByteBuf packet = dp.content();
        if (Segments.isSegment(packet)) {
          packet = reassembly.add(packet);
          if (packet == null) {
            return; // more segments to come
          }
          joinedIn.increment();
        }
        directIn.increment();
        ctx.fireChannelRead(new DatagramPacket(packet, virtualLocal, virtualPeer));
        return;
      }
      // STUN and disco share this socket; they are handled before this point, or dropped here.
      ReferenceCountUtil.release(msg);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.fireChannelReadComplete(); // the codec has handed the batch to quiche once this returns
    if (acceptedBefore >= 0) {
      long after = quicAccepted();
      if (after > acceptedBefore) {
        lastDirectIn = clock.getAsLong();
        quicHeard.increment();
      }
      acceptedBefore = -1;
    }
  }

  /** Delivers packets that came through the relay, from any thread, as one read batch. */
  public void injectFromRelay(List<ByteBuf> packets) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      packets.forEach(ByteBuf::release);
      return;
    }
    Runnable deliver = () -> {
      for (ByteBuf b : packets) {
        relayedIn.increment();
        c.fireChannelRead(new DatagramPacket(b, virtualLocal, virtualPeer));
      }
      // The QUIC codec processes what it read (and sends its answers) on read-complete.
      c.fireChannelReadComplete();
    };
    if (c.executor().inEventLoop()) {
      deliver.run(); // the relay connection shares our event loop: no hand-off needed
    } else {
      c.executor().execute(deliver);
    }
  }

  /** Counters for --verbose and tests. */
  public String stats() {
    return "relay out=" + relayedOut.sum() + " in=" + relayedIn.sum() + " drops=" + relayDrops.sum()
        + ", direct out=" + directOut.sum() + " in=" + directIn.sum() + " (also relayed while silent=" + overlapOut.sum() + ")"
        + " (split out=" + splitOut.sum() + " gso=" + gsoOut.sum() + " joined in=" + joinedIn.sum()
        + " dropped=" + reassemblyDrops() + ")";
  }

  /** Packets sent over the direct path that also went through the relay, the direct path being silent. */
  public long overlapPackets() {
    return overlapOut.sum();
  }

  /** Packets larger than one datagram sent over the direct path in segments. */
  public long splitPackets() {
    return splitOut.sum();
  }

  /** Large packets whose segments left in one UDP GSO send. */
  public long gsoPackets() {
    return gsoOut.sum();
  }

  /** Read batches over the direct path in which the QUIC connection accepted a packet: the signs of life QUIC gave. */
  public long quicHeard() {
    return quicHeard.sum();
  }

  /** Packets put back together from their segments. */
  public long joinedPackets() {
    return joinedIn.sum();
  }

  private long reassemblyDrops() {
    Segments.Reassembly r = reassembly;
    return r == null ? 0 : r.dropped();
  }

  public long relayedPackets() {
    return relayedOut.sum() + relayedIn.sum();
  }

  /** Packets received from the peer by any path: a sign of life. */
  public long packetsIn() {
    return relayedIn.sum() + directIn.sum();
  }
}
