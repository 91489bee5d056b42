package dev.derphole.derp.client;

import dev.derphole.derp.frame.ClientInfoMessage;
import dev.derphole.derp.frame.DerpProtocol;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.frame.FrameDecoder;
import dev.derphole.derp.frame.FrameEncoder;
import dev.derphole.derp.frame.FrameException;
import dev.derphole.derp.frame.ServerInfoMessage;
import dev.derphole.derp.http.HttpHead;
import dev.derphole.derp.http.HttpHeadDecoder;
import dev.derphole.derp.io.Failures;
import dev.derphole.derp.key.BoxException;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.net.IpLiteral;
import dev.derphole.derp.tls.DerpTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * One connection to a DERP server, from dial to close.
 *
 * <pre>
 *  TCP ── [TLS, ALPN http/1.1, SNI = host] ── GET /derp Upgrade: DERP ── 101
 *      ── ServerKey (checked) ── ClientInfo (boxed to the server) ── ServerInfo (boxed to us) ── packets
 * </pre>
 *
 * {@link #connect} returns once ServerInfo has been opened, which proves the server holds the key
 * it announced. After that, packets go out with {@link #send} and come in through the
 * {@link DerpClientListener}; server pings are answered; a connection silent for two keep-alive
 * periods is closed. Reconnecting is {@link ReconnectingDerpClient}'s job.
 */
public final class DerpClient implements AutoCloseable {
  /** Budget for DNS, TCP, TLS, upgrade and handshake together. */
  public static final Duration CONNECT_BUDGET = Duration.ofSeconds(10);
  /** The handshake's outcome on each channel a dial opens (Happy Eyeballs may open several). */
  private static final io.netty.util.AttributeKey<CompletableFuture<DerpClient>> READY =
      io.netty.util.AttributeKey.valueOf(DerpClient.class, "ready");
  /** Budget for one address's TCP connect. */
  public static final Duration DIAL_TIMEOUT = Duration.ofMillis(1500);
  /** How long a {@link #ping} waits for its pong. */
  public static final Duration PING_TIMEOUT = Duration.ofSeconds(5);

  private final Channel channel;
  private final NodePublicKey serverKey;
  private final ServerInfoMessage serverInfo;
  private final Handler handler;

  private DerpClient(Channel channel, NodePublicKey serverKey, ServerInfoMessage serverInfo, Handler handler) {
    this.channel = channel;
    this.serverKey = serverKey;
    this.serverInfo = serverInfo;
    this.handler = handler;
  }

  /** Options for one dial. */
  public record Options(Duration readTimeout, NodePublicKey expectedServerKey, String appName, String meshKey) {
    public static Options defaults() {
      return new Options(DerpProtocol.CLIENT_READ_TIMEOUT, null, "", "");
    }

    public Options withReadTimeout(Duration d) {
      return new Options(d, expectedServerKey, appName, meshKey);
    }

    public Options expectingServerKey(NodePublicKey key) {
      return new Options(readTimeout, key, appName, meshKey);
    }

    /** Logs in as a mesh peer: the region's 64-hex mesh key goes in ClientInfo. */
    public Options withMeshKey(String hex) {
      return new Options(readTimeout, expectedServerKey, appName, hex);
    }
  }

  /**
   * Dials {@code endpoint}, tries its addresses in order, and completes the DERP handshake.
   *
   * @throws IOException with a one-line reason when no address works within {@link #CONNECT_BUDGET}
   */
  public static DerpClient connect(DerpEndpoint endpoint, NodePrivateKey key, DerpClientListener listener,
                                   EventLoopGroup group, Options options) throws IOException {
    long deadline = System.nanoTime() + CONNECT_BUDGET.toNanos();
    ProxyDial proxy = ProxyDial.forEndpoint(endpoint); // HTTPS_PROXY and friends; null when direct
    List<InetSocketAddress> addresses = new ArrayList<>(
        proxy != null ? List.of(proxy.target()) : HappyEyeballs.order(endpoint.resolve()));
    if (addresses.isEmpty()) {
      throw new IOException("no addresses for DERP server " + endpoint.hostName());
    }
    SslContext ssl = endpoint.tls() ? DerpTls.client(endpoint.certName(), endpoint.insecureForTests()) : null;
    IOException last = null;
    for (int round = 0; round < 2; round++) {
      // Happy Eyeballs picks the address whose TCP connection comes first; if the DERP handshake
      // then fails there, the others are raced again.
      while (!addresses.isEmpty()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          return dial(endpoint, addresses, ssl, key, listener, group, options, left, proxy);
        } catch (IOException e) {
          last = e;
        }
      }
      // A token carries one IP literal of a relay, a map one per family: none may be of a family
      // this host can use (an IPv6-only host and an IPv4 literal). The relay's name may have others.
      if (round > 0 || proxy != null || endpoint.addresses().isEmpty() || DerpEndpoint.isIpLiteral(endpoint.hostName())
          || deadline - System.nanoTime() <= 0) {
        break;
      }
      try {
        addresses = new ArrayList<>(HappyEyeballs.order(endpoint.resolveName()));
        addresses.removeAll(endpoint.addresses());
      } catch (java.net.UnknownHostException e) {
        break;
      }
    }
    throw last != null ? last : new IOException("timed out connecting to DERP server " + endpoint);
  }

  /**
   * Connects to one of {@code addresses} (through {@code proxy} unless it is null) and shakes hands
   * there; that address leaves the list whatever happens.
   */
  private static DerpClient dial(DerpEndpoint endpoint, List<InetSocketAddress> addresses, SslContext ssl, NodePrivateKey key,
                                 DerpClientListener listener, EventLoopGroup group, Options options, long budgetNanos,
                                 ProxyDial proxy)
      throws IOException {
    long start = System.nanoTime();
    Bootstrap b = new Bootstrap()
        .group(group)
        .channel(dev.derphole.derp.io.EventLoops.socket(group))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(DIAL_TIMEOUT.toMillis(), TimeUnit.NANOSECONDS.toMillis(budgetNanos)))
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(512 << 10, 2 << 20))
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (proxy != null) {
              ch.pipeline().addLast("proxy", proxy.handler(budgetNanos));
            }
            if (ssl != null) {
              String sniHost = endpoint.certName().isEmpty() || endpoint.certName().startsWith(DerpTls.SHA256_RAW)
                  ? endpoint.hostName() : endpoint.certName();
              SslHandler tls = ssl.newHandler(ch.alloc(), sniHost, endpoint.port());
              if (!endpoint.insecureForTests() && !endpoint.certName().startsWith(DerpTls.SHA256_RAW)) {
                SSLEngine engine = tls.engine();
                SSLParameters params = engine.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                engine.setSSLParameters(params);
              }
              ch.pipeline().addLast("tls", tls);
            }
            ch.pipeline().addLast("flush", new FlushConsolidationHandler(256, true));
            ch.pipeline().addLast("idle", new IdleStateHandler(options.readTimeout().toNanos(), 0, 0, TimeUnit.NANOSECONDS));
            ch.pipeline().addLast("http-head", new HttpHeadDecoder());
            CompletableFuture<DerpClient> ready = new CompletableFuture<>();
            ch.attr(READY).set(ready);
            ch.pipeline().addLast("derp", new Handler(endpoint, key, listener, options, ready));
          }
        });
    if (proxy != null) {
      b.resolver(io.netty.resolver.NoopAddressResolverGroup.INSTANCE); // the proxy resolves the relay's name
    }
    HappyEyeballs.Connected won;
    try {
      won = HappyEyeballs.connect(b, addresses, HappyEyeballs.ATTEMPT_DELAY, budgetNanos);
    } catch (IOException e) {
      String where = addresses.size() == 1 ? " (" + IpLiteral.format(addresses.get(0)) + ")" : "";
      addresses.clear();
      throw new IOException("DERP " + endpoint + where + ": " + e.getMessage(), e);
    }
    Channel ch = won.channel();
    InetSocketAddress address = won.address();
    addresses.remove(address);
    CompletableFuture<DerpClient> ready = ch.attr(READY).get();
    try {
      return ready.get(Math.max(1, budgetNanos - (System.nanoTime() - start)), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      ch.close();
      Throwable c = e.getCause();
      String where = "DERP " + endpoint + " (" + IpLiteral.format(address) + "): ";
      if (c instanceof RelayCertificateException) {
        throw new RelayCertificateException(where + c.getMessage());
      }
      throw new IOException(where + Failures.describe(c), c);
    } catch (TimeoutException e) {
      ch.close();
      throw new IOException("DERP " + endpoint + " (" + IpLiteral.format(address) + "): handshake timed out");
    } catch (InterruptedException e) {
      ch.close();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while connecting to DERP " + endpoint);
    }
  }

  public NodePublicKey serverKey() {
    return serverKey;
  }

  public ServerInfoMessage serverInfo() {
    return serverInfo;
  }

  public InetSocketAddress remoteAddress() {
    return (InetSocketAddress) channel.remoteAddress();
  }

  public boolean isOpen() {
    return channel.isActive();
  }

  /** Whether the connection takes more writes without growing its buffer past the high-water mark. */
  public boolean isWritable() {
    return channel.isWritable();
  }

  /**
   * Sends {@code packet} to {@code destination}; takes ownership of the buffer. Returns false, and
   * drops the packet, when the connection is closed (DERP carries datagrams: a packet may be lost).
   */
  public boolean send(NodePublicKey destination, ByteBuf packet) {
    if (!channel.isActive()) {
      packet.release();
      return false;
    }
    channel.writeAndFlush(new Frame.SendPacket(destination, packet), channel.voidPromise());
    return true;
  }

  public boolean send(NodePublicKey destination, byte[] packet) {
    return send(destination, Unpooled.wrappedBuffer(packet));
  }

  /**
   * Like {@link #send(NodePublicKey, ByteBuf)}, but also drops the packet (false) while the
   * connection's write buffer is above its high-water mark. For datagrams whose sender has its own
   * loss recovery (QUIC): it is told of congestion by the loss, instead of the buffer growing
   * without bound while it retransmits what is only queued.
   */
  public boolean sendDatagram(NodePublicKey destination, ByteBuf packet) {
    if (!channel.isWritable()) {
      packet.release();
      return false;
    }
    return send(destination, packet);
  }

  /**
   * Waits until everything sent so far has been handed to the socket (e.g. a last message before
   * the process exits). False if that did not happen within {@code timeout}.
   */
  public boolean flush(Duration timeout) {
    if (!channel.isActive()) {
      return false;
    }
    return channel.writeAndFlush(Unpooled.EMPTY_BUFFER).awaitUninterruptibly(timeout.toMillis());
  }

  /** Mesh peers only: asks for PeerPresent/PeerGone about every client of the server. */
  public void watchConns() {
    channel.writeAndFlush(Frame.WatchConns.INSTANCE, channel.voidPromise());
  }

  /** The event loop this connection's I/O runs on. */
  public io.netty.channel.EventLoop eventLoop() {
    return channel.eventLoop();
  }

  /** The allocator of this connection's buffers. */
  public io.netty.buffer.ByteBufAllocator alloc() {
    return channel.alloc();
  }

  /**
   * Mesh peers only, on {@link #eventLoop}: writes ready ForwardPacket frames (one or more, headers
   * included), taking ownership, and flushes when asked. False, and dropped, while the connection is closed.
   */
  public boolean forwardFrame(ByteBuf frame, boolean flush) {
    if (!channel.isActive()) {
      frame.release();
      return false;
    }
    channel.write(frame, channel.voidPromise());
    if (flush) {
      channel.flush();
    }
    return true;
  }

  /** Mesh peers only, on {@link #eventLoop}: flushes what {@link #forwardFrame} wrote. */
  public void flushForwarded() {
    channel.flush();
  }

  /** Tells the server whether it is this client's home region. */
  public void notePreferred(boolean preferred) {
    channel.writeAndFlush(new Frame.NotePreferred(preferred), channel.voidPromise());
  }

  /** Pings the server; completes with the round-trip time, or exceptionally after {@link #PING_TIMEOUT}. */
  public CompletableFuture<Duration> ping() {
    byte[] data = new byte[8];
    ThreadLocalRandom.current().nextBytes(data);
    CompletableFuture<Duration> f = new CompletableFuture<>();
    long start = System.nanoTime();
    Long key = Unpooled.wrappedBuffer(data).getLong(0);
    handler.pings.put(key, f);
    channel.writeAndFlush(new Frame.Ping(data), channel.voidPromise());
    f.orTimeout(PING_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).whenComplete((d, e) -> handler.pings.remove(key));
    return f.thenApply(ignored -> Duration.ofNanos(System.nanoTime() - start));
  }

  /** Completes when the connection has closed. */
  public CompletableFuture<Void> closed() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    channel.closeFuture().addListener(x -> f.complete(null));
    return f;
  }

  @Override
  public void close() {
    handler.closeReason = "closed by us";
    channel.close().awaitUninterruptibly();
  }

  /** The pipeline end: upgrade, handshake, then the steady state. */
  private static final class Handler extends ChannelInboundHandlerAdapter {
    enum State { AWAITING_UPGRADE, AWAITING_SERVER_KEY, AWAITING_SERVER_INFO, ACTIVE, CLOSED }

    private final DerpEndpoint endpoint;
    private final NodePrivateKey key;
    private final DerpClientListener listener;
    private final Options options;
    private final CompletableFuture<DerpClient> ready;
    final Map<Long, CompletableFuture<Duration>> pings = new ConcurrentHashMap<>();
    private State state = State.AWAITING_UPGRADE;
    private NodePublicKey serverKey;
    private DerpClient client;
    volatile String closeReason;

    Handler(DerpEndpoint endpoint, NodePrivateKey key, DerpClientListener listener, Options options,
            CompletableFuture<DerpClient> ready) {
      this.endpoint = endpoint;
      this.key = key;
      this.listener = listener;
      this.options = options;
      this.ready = ready;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      SslHandler tls = ctx.pipeline().get(SslHandler.class);
      if (tls == null) {
        sendUpgrade(ctx);
      } else {
        tls.handshakeFuture().addListener(f -> {
          if (f.isSuccess()) {
            sendUpgrade(ctx);
          } else {
            String refusal = RelayCertificateException.why(f.cause());
            if (refusal != null) {
              fail(ctx, new RelayCertificateException("TLS handshake failed: the relay's certificate was refused: " + refusal));
            } else if (ProxyDial.refusal(f.cause()) != null) {
              fail(ctx, ProxyDial.refusal(f.cause())); // the proxy failed the ClientHello it held back
            } else {
              fail(ctx, "TLS handshake failed: " + Failures.describe(f.cause()));
            }
          }
        });
      }
      ctx.fireChannelActive();
    }

    private void sendUpgrade(ChannelHandlerContext ctx) {
      String request = "GET /derp HTTP/1.1\r\n"
          + "Host: " + endpoint.hostHeader() + "\r\n"
          + "User-Agent: derphole-java\r\n"
          + "Connection: Upgrade\r\n"
          + "Upgrade: DERP\r\n\r\n";
      ctx.writeAndFlush(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        switch (state) {
          case AWAITING_UPGRADE -> onUpgrade(ctx, msg);
          case AWAITING_SERVER_KEY -> onServerKey(ctx, msg);
          case AWAITING_SERVER_INFO -> onServerInfo(ctx, msg);
          case ACTIVE -> onFrame(ctx, (Frame) msg);
          case CLOSED -> { }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void onUpgrade(ChannelHandlerContext ctx, Object msg) {
      HttpHead head = (HttpHead) msg;
      if (head.statusCode() != 101) {
        fail(ctx, "server answered \"" + head.startLine() + "\" instead of switching to DERP");
        return;
      }
      state = State.AWAITING_SERVER_KEY;
      ctx.pipeline().addBefore(ctx.name(), "derp-frame-decoder", new FrameDecoder(DerpProtocol.MAX_CLIENT_FRAME_LENGTH));
      ctx.pipeline().addBefore(ctx.name(), "derp-frame-encoder", FrameEncoder.INSTANCE);
      ctx.pipeline().remove("http-head"); // bytes behind the 101 flow into the frame decoder
    }

    private void onServerKey(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof Frame.ServerKey sk)) {
        fail(ctx, "expected ServerKey as the first frame, got " + msg);
        return;
      }
      if (options.expectedServerKey() != null && !options.expectedServerKey().equals(sk.serverKey())) {
        fail(ctx, "server key " + sk.serverKey().shortString() + " is not the expected "
            + options.expectedServerKey().shortString());
        return;
      }
      serverKey = sk.serverKey();
      ClientInfoMessage info = new ClientInfoMessage(options.meshKey(), DerpProtocol.PROTOCOL_VERSION, true, false, options.appName());
      byte[] sealed;
      try {
        sealed = key.seal(serverKey, info.toJson());
      } catch (IllegalArgumentException e) {
        fail(ctx, "unusable server key: " + e.getMessage());
        return;
      }
      state = State.AWAITING_SERVER_INFO;
      ctx.writeAndFlush(new Frame.ClientInfo(key.publicKey(), sealed));
    }

    private void onServerInfo(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Frame.Unknown || msg instanceof Frame.KeepAlive) {
        return;
      }
      if (!(msg instanceof Frame.ServerInfo si)) {
        fail(ctx, "expected ServerInfo, got " + msg);
        return;
      }
      ServerInfoMessage info;
      try {
        info = ServerInfoMessage.parse(key.open(serverKey, si.nonceAndBox()));
      } catch (BoxException | FrameException e) {
        fail(ctx, "bad ServerInfo: " + e.getMessage());
        return;
      }
      state = State.ACTIVE;
      client = new DerpClient(ctx.channel(), serverKey, info, this);
      listener.onConnected(client);
      ready.complete(client);
    }

    private void onFrame(ChannelHandlerContext ctx, Frame frame) {
      if (frame instanceof Frame.RecvPacket p) {
        listener.onPacket(p.source(), p.packet());
      } else if (frame instanceof Frame.Ping ping) {
        ctx.writeAndFlush(new Frame.Pong(ping.data()), ctx.voidPromise());
      } else if (frame instanceof Frame.Pong pong) {
        CompletableFuture<Duration> f = pings.remove(Unpooled.wrappedBuffer(pong.data()).getLong(0));
        if (f != null) {
          f.complete(Duration.ZERO);
        }
      } else if (frame instanceof Frame.PeerGone g) {
        listener.onPeerGone(g.peer(), g.reason());
      } else if (frame instanceof Frame.PeerPresent pp) {
        listener.onPeerPresent(pp.peer(), pp.endpoint(), pp.flags());
      } else if (frame instanceof Frame.Health h) {
        listener.onHealth(h.problem());
      } else if (frame instanceof Frame.Restarting r) {
        listener.onRestarting(r.reconnectInMillis(), r.tryForMillis());
      }
      // KeepAlive, a late ServerKey and unknown types need nothing.
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (state == State.ACTIVE) {
        listener.onReadComplete();
      }
      ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (state == State.ACTIVE) {
        listener.onWritabilityChanged(ctx.channel().isWritable());
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent) {
        fail(ctx, "no data from the DERP server for " + options.readTimeout().toMillis() + " ms");
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      String proxy = ProxyDial.refusal(cause);
      fail(ctx, proxy != null ? proxy : Failures.describe(cause));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      boolean wasActive = state == State.ACTIVE;
      state = State.CLOSED;
      String reason = closeReason != null ? closeReason : "connection closed by the DERP server";
      ready.completeExceptionally(new IOException(reason));
      pings.values().forEach(f -> f.completeExceptionally(new IOException(reason)));
      if (wasActive) {
        listener.onClosed(reason);
      }
      ctx.fireChannelInactive();
    }

    private void fail(ChannelHandlerContext ctx, String reason) {
      fail(ctx, new IOException(reason));
    }

    private void fail(ChannelHandlerContext ctx, IOException reason) {
      if (closeReason == null) {
        closeReason = reason.getMessage();
      }
      ready.completeExceptionally(reason);
      ctx.close();
    }
  }
}
