package dev.derphole.transport.quic;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.handler.codec.quic.QuicheSendRoom;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The FIN that quiche drops (cloudflare/quiche#2525), staged step by step between two real QUIC
 * endpoints on loopback UDP. Bob (server) has read Alice's request and its FIN on stream A, answers,
 * fills his congestion window with stream B, and ends A while Alice's ACK for the answer is already
 * on its way. The ACKs are held in front of Bob's codec and handed to it in the same event-loop task
 * right after the task that ends A, so the order "FIN queued, then ACK processed, then send" happens
 * every time unless the FIN is held back.
 *
 * <pre>
 *   alice ──A: "x"+FIN, B: "y"──▶ bob      (gate shut: alice's packets to bob are held)
 *   alice ◀──A: answer, B: flood ── bob     (until bob's congestion window is full)
 *   alice ──ACK(answer)──▶ [held]
 *   bob: end A; in the next task deliver the held ACKs
 *   alice must see A's FIN
 * </pre>
 */
class StreamFinTest {
  private static final String ANSWER = "the answer";
  private EventLoopGroup group;
  private final List<AutoCloseable> closeMe = new ArrayList<>();

  @BeforeEach
  void start() {
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeMe) {
      c.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void aFinQueuedBehindAFullWindowStillReachesThePeer() throws Exception {
    Staged s = stage();
    s.endStreamA(StreamFin::shutdown);
    assertThat(s.capacityWhenEnded.get()).as("bob's window was full when he ended A").isBetween(0L, StreamFin.ENOUGH - 1);
    s.alice.fin.get(10, TimeUnit.SECONDS);
    assertThat(s.alice.text.toString()).isEqualTo(ANSWER);
  }

  /**
   * The canary: the same steps with a plain {@code shutdownOutput()} lose the FIN. If this fails
   * after a Netty or quiche upgrade, the bug is fixed upstream and StreamFin can become a plain
   * shutdown again.
   */
  @Test
  void aPlainShutdownInTheSameSpotLosesTheFin() throws Exception {
    Staged s = stage();
    s.endStreamA(a -> a.shutdownOutput());
    assertThat(s.capacityWhenEnded.get()).isBetween(0L, StreamFin.ENOUGH - 1);
    // Long enough for many round trips and retransmission timeouts on loopback.
    assertThat(s.alice.fin).failsWithin(3, TimeUnit.SECONDS);
    assertThat(s.alice.text.toString()).isEqualTo(ANSWER);
  }

  /**
   * The FIN's own packet lost: Bob answers and ends A in one task, and the datagram after the
   * answer's is dropped on its way out. With StreamFin the FIN leaves after Alice's ACK for the
   * answer, so quiche still knows the stream when it finds the loss, and sends the FIN again.
   * (On loopback that ACK may beat the FIN even without StreamFin's wait, so this shows that a
   * lost FIN-only packet is resent once the data was acknowledged; the canary below shows the
   * loss when the FIN goes first.)
   */
  @Test
  void aLoneFinWhosePacketIsLostStillReachesThePeer() throws Exception {
    Pair p = connect();
    loseTheFin(p, StreamFin::shutdown);
    p.alice().fin.get(10, TimeUnit.SECONDS);
    assertThat(p.alice().text.toString()).isEqualTo(ANSWER);
    assertThat(p.dropper().dropped).hasValue(1);
  }

  /** The canary of the same loss: a plain shutdown right after the answer loses the FIN for good. */
  @Test
  void aPlainShutdownWhosePacketIsLostLosesTheFin() throws Exception {
    Pair p = connect();
    loseTheFin(p, a -> a.shutdownOutput());
    assertThat(p.alice().fin).failsWithin(3, TimeUnit.SECONDS);
    assertThat(p.alice().text.toString()).isEqualTo(ANSWER);
    assertThat(p.dropper().dropped).hasValue(1);
  }

  private static void loseTheFin(Pair p, Consumer<QuicStreamChannel> end) throws Exception {
    QuicStreamChannel bobA = p.bobA();
    bobA.eventLoop().submit(() -> {
      p.dropper().dropAfter(1);
      bobA.writeAndFlush(Unpooled.copiedBuffer(ANSWER, StandardCharsets.US_ASCII));
      end.accept(bobA);
    }).get(10, TimeUnit.SECONDS);
  }

  /** Drops one datagram Bob sends, after letting a given number through. Event loop only. */
  static final class Dropper extends ChannelOutboundHandlerAdapter {
    final AtomicInteger dropped = new AtomicInteger();
    private int pass = -1;

    void dropAfter(int datagrams) {
      pass = datagrams;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (pass == 0) {
        pass = -1;
        dropped.incrementAndGet();
        ReferenceCountUtil.release(msg);
        promise.setSuccess();
        return;
      }
      if (pass > 0) {
        pass--;
      }
      ctx.write(msg, promise);
    }
  }

  /** Holds every datagram from Alice while shut; hands them on, in order, when told. */
  static final class Gate extends ChannelInboundHandlerAdapter {
    final AtomicInteger held = new AtomicInteger();
    private final List<Object> packets = new ArrayList<>();
    private volatile boolean shut;
    private ChannelHandlerContext ctx;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (shut) {
        packets.add(msg);
        held.incrementAndGet();
      } else {
        ctx.fireChannelRead(msg);
      }
    }

    void shut() {
      shut = true;
    }

    /** On the channel's event loop: opens the gate and delivers what it held as one read batch. */
    void open() {
      shut = false;
      for (Object p : packets) {
        ctx.fireChannelRead(p);
      }
      packets.clear();
      ctx.fireChannelReadComplete();
    }
  }

  /** Alice's stream A: the answer, whether its FIN came, and how many packets bob's gate held when the answer arrived. */
  static final class AliceA extends ChannelInboundHandlerAdapter {
    final StringBuilder text = new StringBuilder();
    final CompletableFuture<Void> answered = new CompletableFuture<>();
    final CompletableFuture<Void> fin = new CompletableFuture<>();
    final AtomicInteger heldAtAnswer = new AtomicInteger(-1);
    private final Gate gate;

    AliceA(Gate gate) {
      this.gate = gate;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      text.append(b.toString(StandardCharsets.US_ASCII));
      b.release();
      if (text.length() == ANSWER.length() && heldAtAnswer.compareAndSet(-1, gate.held.get())) {
        // Alice acknowledges after this read, so a packet held after this count carries that ACK.
        answered.complete(null);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownReadComplete) {
        fin.complete(null);
      }
    }
  }

  /** Bob's streams, keyed by the first byte Alice sent on them. */
  static final class BobStreams extends ChannelInboundHandlerAdapter {
    final Map<Character, CompletableFuture<QuicStreamChannel>> byName = new ConcurrentHashMap<>();
    final CompletableFuture<Void> requestEnded = new CompletableFuture<>();

    CompletableFuture<QuicStreamChannel> named(char c) {
      return byName.computeIfAbsent(c, k -> new CompletableFuture<>());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      if (b.isReadable()) {
        named((char) b.getByte(b.readerIndex())).complete((QuicStreamChannel) ctx.channel());
      }
      b.release();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownReadComplete) {
        requestEnded.complete(null);
      }
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  final class Staged {
    final Gate gate;
    final AliceA alice;
    final QuicStreamChannel bobA;
    final AtomicLong capacityWhenEnded = new AtomicLong(Long.MIN_VALUE);

    Staged(Gate gate, AliceA alice, QuicStreamChannel bobA) {
      this.gate = gate;
      this.alice = alice;
      this.bobA = bobA;
    }

    /** Waits for Alice's ACK of the answer to be held, then in one task: end A, deliver the ACKs. */
    void endStreamA(Consumer<QuicStreamChannel> end) throws Exception {
      alice.answered.get(10, TimeUnit.SECONDS);
      int before = alice.heldAtAnswer.get();
      CompletableFuture<Void> ackHeld = new CompletableFuture<>();
      awaitHeldAbove(before, ackHeld);
      ackHeld.get(10, TimeUnit.SECONDS);
      bobA.eventLoop().submit(() -> {
        capacityWhenEnded.set(QuicheSendRoom.of(bobA));
        end.accept(bobA);
        // A task after whatever ending A queued, so the ACKs land after the FIN's first try.
        bobA.eventLoop().execute(gate::open);
      }).get(10, TimeUnit.SECONDS);
    }

    private void awaitHeldAbove(int count, CompletableFuture<Void> done) {
      if (gate.held.get() > count) {
        done.complete(null);
      } else if (!done.isDone()) {
        bobA.eventLoop().schedule(() -> awaitHeldAbove(count, done), 1, TimeUnit.MILLISECONDS);
      }
    }
  }

  /** Alice and Bob connected; Alice sent "x" and her FIN on A and "y" on B; Bob has read A to its end. */
  record Pair(Gate gate, Dropper dropper, AliceA alice, QuicStreamChannel bobA, QuicStreamChannel bobB) {}

  private Staged stage() throws Exception {
    Pair p = connect();
    QuicStreamChannel bobA = p.bobA();
    p.bobA().eventLoop().submit(() -> {
      p.gate().shut();
      bobA.writeAndFlush(Unpooled.copiedBuffer(ANSWER, StandardCharsets.US_ASCII));
      byte[] chunk = new byte[16 << 10];
      for (int i = 0; i < 256 && QuicheSendRoom.of(bobA) >= StreamFin.ENOUGH; i++) {
        p.bobB().writeAndFlush(Unpooled.wrappedBuffer(chunk));
      }
    }).get(10, TimeUnit.SECONDS);
    return new Staged(p.gate(), p.alice(), bobA);
  }

  private Pair connect() throws Exception {
    TlsIdentity aliceTls = TlsIdentity.generate();
    TlsIdentity bobTls = TlsIdentity.generate();
    Gate gate = new Gate();
    Dropper dropper = new Dropper();
    BobStreams bobStreams = new BobStreams();
    DatagramChannel bobUdp = udp(dropper, gate);
    QuicTransport.serve(bobUdp, bobTls, aliceTls.publicKey(), noop(), bobStreams);
    DatagramChannel aliceUdp = udp(noop());
    QuicChannel alice = QuicTransport.connect(aliceUdp, (InetSocketAddress) aliceUdp.localAddress(),
        (InetSocketAddress) bobUdp.localAddress(), aliceTls, bobTls.publicKey(), noop(), noop()).get(10, TimeUnit.SECONDS);
    closeMe.add(() -> alice.close().awaitUninterruptibly(2, TimeUnit.SECONDS));

    AliceA aliceA = new AliceA(gate);
    QuicStreamChannel a = alice.createStream(QuicStreamType.BIDIRECTIONAL, aliceA).get(10, TimeUnit.SECONDS);
    a.writeAndFlush(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII)).sync();
    a.eventLoop().execute(() -> a.shutdownOutput());
    QuicStreamChannel b = alice.createStream(QuicStreamType.BIDIRECTIONAL, discard()).get(10, TimeUnit.SECONDS);
    b.writeAndFlush(Unpooled.copiedBuffer("y", StandardCharsets.US_ASCII)).sync();

    QuicStreamChannel bobA = bobStreams.named('x').get(10, TimeUnit.SECONDS);
    QuicStreamChannel bobB = bobStreams.named('y').get(10, TimeUnit.SECONDS);
    bobStreams.requestEnded.get(10, TimeUnit.SECONDS);
    assertThat(bobA.eventLoop()).isSameAs(bobUdp.eventLoop());
    return new Pair(gate, dropper, aliceA, bobA, bobB);
  }

  private DatagramChannel udp(ChannelHandler... first) throws Exception {
    DatagramChannel ch = (DatagramChannel) new Bootstrap()
        .group(group)
        .channel(NioDatagramChannel.class)
        .handler(new ChannelInitializer<DatagramChannel>() {
          @Override
          protected void initChannel(DatagramChannel c) {
            c.pipeline().addLast(first);
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    closeMe.add(() -> ch.close().syncUninterruptibly());
    return ch;
  }

  private static ChannelHandler noop() {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public boolean isSharable() {
        return true;
      }
    };
  }

  private static ChannelHandler discard() {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
      }
    };
  }
}
