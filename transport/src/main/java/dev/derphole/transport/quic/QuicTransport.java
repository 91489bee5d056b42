package dev.derphole.transport.quic;

import dev.derphole.derp.io.Failures;
import dev.derphole.derp.net.IpLiteral;
import dev.derphole.transport.path.PeerPath;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.ssl.ClientAuth;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * QUIC over a {@link PeerPath}: mutual TLS 1.3 where each side accepts exactly the key it was
 * told to expect, our own ALPN, and one set of transport parameters for every product.
 *
 * <pre>
 *   session UDP socket ── [ PeerPath | QUIC codec ] ── QuicChannel ── streams
 * </pre>
 *
 * The issuer adds the server codec once it has accepted a claim (it then knows whom to pin); the
 * claimant adds the client codec once the decision arrives and dials the virtual peer address.
 */
public final class QuicTransport {
  public static final String ALPN = "derphole/1";
  public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
  /**
   * The largest QUIC packet: a DERP packet carries it whole, the direct path in datagrams of at
   * most 1350 bytes (the path package's segments). Packets this large cost quiche and Netty far
   * less per byte than 1350-byte ones (docs/benchmarks.md).
   */
  public static final int MAX_UDP_PAYLOAD = dev.derphole.transport.path.PeerPath.MAX_PACKET;
  public static final long MAX_DATA = 64L << 20;
  public static final long MAX_STREAM_DATA = 16L << 20;
  /**
   * The streams each side lets the other open at once (QUIC's stream credit, renewed as streams
   * finish). Far above the connections a {@code share} serves at once: a stream outlives its TCP
   * connection while its FIN waits out {@link StreamFin}'s delay, so under many short connections
   * the finishing streams add up to several times the open ones.
   */
  public static final long MAX_BIDI_STREAMS = 16384;
  /**
   * QUIC DATAGRAM frames (RFC 9221) each side queues, to send and received but not read yet; past
   * that quiche drops them (derptun's UDP forwarding, docs/protocol.md).
   */
  public static final int DATAGRAM_QUEUE = 512;
  public static final String CODEC = "quic";
  public static final String PATH = "peer-path";

  /**
   * Room for one datagram read from the session's socket: above the largest the direct path sends
   * ({@link PeerPath#MAX_DATAGRAM}; larger QUIC packets go in segments), STUN's and disco's. Every
   * transport reads into this much, epoll's recvmmsg, kqueue and NIO alike.
   */
  static final int DATAGRAM_READ = 2048;

  private static final java.util.concurrent.atomic.AtomicBoolean PRELOADED = new java.util.concurrent.atomic.AtomicBoolean();

  private QuicTransport() {}

  /** Binds the session's UDP socket with the path in its pipeline; QUIC is added later. */
  public static DatagramChannel bind(EventLoopGroup group, InetSocketAddress address, PeerPath path) throws IOException {
    return bind(group, address, path, note -> { });
  }

  /**
   * As {@link #bind(EventLoopGroup, InetSocketAddress, PeerPath)}; {@code note} hears, once, that
   * epoll's batched reads failed here and the socket went on with one datagram per read.
   */
  public static DatagramChannel bind(EventLoopGroup group, InetSocketAddress address, PeerPath path,
      java.util.function.Consumer<String> note) throws IOException {
    boolean batched = dev.derphole.derp.io.EventLoops.transport(group) == dev.derphole.derp.io.EventLoops.Transport.EPOLL;
    Bootstrap b = new Bootstrap()
        .group(group)
        .channel(dev.derphole.derp.io.EventLoops.datagram(group))
        .option(ChannelOption.SO_RCVBUF, 4 << 20)
        .option(ChannelOption.SO_SNDBUF, 4 << 20)
        .handler(new ChannelInitializer<DatagramChannel>() {
          @Override
          protected void initChannel(DatagramChannel ch) {
            if (batched) {
              ch.pipeline().addLast(BatchReadFallback.NAME, new BatchReadFallback(DATAGRAM_READ, note));
            }
            ch.pipeline().addLast(PATH, path);
          }
        });
    if (batched) {
      // recvmmsg: many datagrams per system call, each at most this large.
      b.option(io.netty.channel.epoll.EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, DATAGRAM_READ);
      b.option(ChannelOption.RCVBUF_ALLOCATOR, new io.netty.channel.FixedRecvByteBufAllocator(DATAGRAM_READ * 16));
    } else {
      // kqueue and NIO: one datagram per read, into a buffer this large (a longer one is cut short).
      b.option(ChannelOption.RCVBUF_ALLOCATOR, new io.netty.channel.FixedRecvByteBufAllocator(DATAGRAM_READ));
    }
    try {
      return (DatagramChannel) b.bind(address).sync().channel();
    } catch (Exception e) {
      throw new IOException("cannot open a UDP socket on " + IpLiteral.format(address) + ": " + Failures.describe(e), e);
    } 
  }

  /**
   * Loads quiche's native library and BoringSSL's context code on a daemon thread, so that the
   * first handshake does not wait for them: about 150 ms of a fresh process, which can overlap the
   * wait for the relay and the claim. A failure here is left to the real setup to report. Once per
   * process: a derptun leg that reconnects finds them loaded.
   */
  public static void preload(TlsIdentity me) {
    if (!PRELOADED.compareAndSet(false, true)) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        io.netty.handler.codec.quic.Quic.ensureAvailability();
        QuicSslContextBuilder.forServer(me.privateKey(), null, me.certificate()).applicationProtocols(ALPN).build();
      } catch (RuntimeException | LinkageError e) {
        // the same call on the session's path fails again, with context
      }
    }, "derphole-preload");
    t.setDaemon(true);
    t.start();
  }

  /** Adds the server side: accepts one peer whose TLS key is {@code clientPin}. */
  public static void serve(Channel udp, TlsIdentity me, byte[] clientPin, ChannelHandler connectionHandler,
                           ChannelHandler streamHandler) {
    serve(udp, me, clientPin, connectionHandler, streamHandler, MAX_BIDI_STREAMS);
  }

  /** As {@link #serve(Channel, TlsIdentity, byte[], ChannelHandler, ChannelHandler)}, giving the peer {@code maxBidiStreams} of stream credit. */
  public static void serve(Channel udp, TlsIdentity me, byte[] clientPin, ChannelHandler connectionHandler,
                           ChannelHandler streamHandler, long maxBidiStreams) {
    QuicSslContext ssl = QuicSslContextBuilder.forServer(me.privateKey(), null, me.certificate())
        .trustManager(new PinnedKeyTrustManager(clientPin))
        .clientAuth(ClientAuth.REQUIRE)
        .applicationProtocols(ALPN)
        .build();
    ChannelHandler codec = tune(new QuicServerCodecBuilder(), maxBidiStreams)
        .sslContext(ssl)
        .tokenHandler(InsecureQuicTokenHandler.INSTANCE) // address validation means nothing on a virtual address
        .handler(connectionHandler)
        .streamHandler(streamHandler)
        .build();
    udp.pipeline().addLast(CODEC, codec);
  }

  /** Adds the client side and dials the peer, accepting only the server key {@code serverPin}. */
  public static Future<QuicChannel> connect(Channel udp, PeerPath path, TlsIdentity me, byte[] serverPin,
                                            ChannelHandler connectionHandler, ChannelHandler streamHandler) {
    return connect(udp, path.virtualLocal(), path.virtualPeer(), me, serverPin, connectionHandler, streamHandler);
  }

  /**
   * Adds the client side and dials {@code peer} from {@code local}: a path's virtual addresses, or
   * real socket addresses where nothing sits in front of the codec (the QUIC ceiling benchmark).
   */
  public static Future<QuicChannel> connect(Channel udp, InetSocketAddress local, InetSocketAddress peer, TlsIdentity me,
                                            byte[] serverPin, ChannelHandler connectionHandler, ChannelHandler streamHandler) {
    QuicSslContext ssl = QuicSslContextBuilder.forClient()
        .keyManager(me.privateKey(), null, me.certificate())
        .trustManager(new PinnedKeyTrustManager(serverPin))
        .endpointIdentificationAlgorithm(null)
        .applicationProtocols(ALPN)
        .build();
    ChannelHandler codec = tune(new QuicClientCodecBuilder(), MAX_BIDI_STREAMS).sslContext(ssl).build();
    udp.pipeline().addLast(CODEC, codec);
    return QuicChannel.newBootstrap(udp)
        .handler(connectionHandler)
        .streamHandler(streamHandler)
        .localAddress(local)
        .remoteAddress(peer)
        .connect();
  }

  private static <B extends io.netty.handler.codec.quic.QuicCodecBuilder<B>> B tune(B b, long maxBidiStreams) {
    return b.maxIdleTimeout(IDLE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .maxSendUdpPayloadSize(MAX_UDP_PAYLOAD)
        .maxRecvUdpPayloadSize(MAX_UDP_PAYLOAD)
        .initialMaxData(MAX_DATA)
        .initialMaxStreamDataBidirectionalLocal(MAX_STREAM_DATA)
        .initialMaxStreamDataBidirectionalRemote(MAX_STREAM_DATA)
        .initialMaxStreamsBidirectional(maxBidiStreams)
        .initialMaxStreamsUnidirectional(16)
        .initialMaxStreamDataUnidirectional(64 << 10)
        .congestionControlAlgorithm(QuicCongestionControlAlgorithm.BBR)
        .datagram(DATAGRAM_QUEUE, DATAGRAM_QUEUE)
        .activeMigration(false);
  }
}
