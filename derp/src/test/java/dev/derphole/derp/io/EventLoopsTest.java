package dev.derphole.derp.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.io.EventLoops.Availability;
import dev.derphole.derp.io.EventLoops.Choice;
import dev.derphole.derp.io.EventLoops.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.kqueue.KQueue;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Which event loop a process runs on: {@code -Dderphole.transport} against what loads here
 * ({@link EventLoops#choose} with made-up availabilities), and groups of each kind that really
 * carry datagrams.
 */
class EventLoopsTest {
  static final Supplier<Availability> YES = () -> new Availability(true, "");
  static final Supplier<Availability> NO_EPOLL = () -> new Availability(false, "only supported on Linux");
  static final Supplier<Availability> NO_KQUEUE = () -> new Availability(false, "only supported on macOS");
  /** For a choice that must not even ask (a forced NIO must not load a native library). */
  static final Supplier<Availability> NOT_ASKED = () -> {
    throw new AssertionError("availability asked for");
  };

  @Test
  void byDefaultEpollWhereItLoadsThenKqueueThenNio() {
    for (String unset : new String[] {null, "", "auto", " AUTO "}) {
      assertThat(EventLoops.choose(unset, YES, NOT_ASKED).transport()).as("%s on Linux", unset).isEqualTo(Transport.EPOLL);
      assertThat(EventLoops.choose(unset, NO_EPOLL, YES).transport()).as("%s on macOS", unset).isEqualTo(Transport.KQUEUE);
      Choice windows = EventLoops.choose(unset, NO_EPOLL, NO_KQUEUE);
      assertThat(windows.transport()).as("%s on Windows", unset).isEqualTo(Transport.NIO);
      assertThat(windows.describe()).isEqualTo("nio (no epoll or kqueue here)");
      assertThat(windows.warning()).isEmpty();
    }
    assertThat(EventLoops.choose(null, YES, NOT_ASKED).describe()).isEqualTo("epoll");
  }

  @Test
  void nioForcedIsNioWithoutLoadingAnyNative() {
    for (String nio : new String[] {"nio", "NIO", " nio\n"}) {
      Choice c = EventLoops.choose(nio, NOT_ASKED, NOT_ASKED);
      assertThat(c.transport()).isEqualTo(Transport.NIO);
      assertThat(c.describe()).isEqualTo("nio (forced by -Dderphole.transport=nio)");
      assertThat(c.warning()).isEmpty();
    }
  }

  @Test
  void aNativeAskedForIsUsedWhereItLoadsAndElseNioWithAWarningThatSaysWhy() {
    assertThat(EventLoops.choose("kqueue", NOT_ASKED, YES).transport()).isEqualTo(Transport.KQUEUE);
    assertThat(EventLoops.choose("epoll", YES, NOT_ASKED).describe()).isEqualTo("epoll (forced by -Dderphole.transport=epoll)");
    Choice c = EventLoops.choose("epoll", NO_EPOLL, NOT_ASKED);
    assertThat(c.transport()).isEqualTo(Transport.NIO);
    assertThat(c.warning()).hasValue("-Dderphole.transport=epoll: epoll is not available here (only supported on Linux); using nio");
  }

  @Test
  void anUnknownValueIsIgnoredWithAWarning() {
    Choice c = EventLoops.choose("io_uring", YES, NOT_ASKED);
    assertThat(c.transport()).isEqualTo(Transport.EPOLL);
    assertThat(c.warning()).hasValue("ignoring -Dderphole.transport=io_uring: expected auto, nio, epoll or kqueue");
  }

  @Test
  void aMissingNativesReasonIsOneLineOrTheExceptionsName() {
    assertThat(Availability.of(false, () -> new UnsatisfiedLinkError("no netty_x in java.library.path\n\tmore")).unavailableBecause())
        .isEqualTo("no netty_x in java.library.path");
    assertThat(Availability.of(false, () -> new IllegalStateException()).unavailableBecause()).isEqualTo("IllegalStateException");
    assertThat(Availability.of(false, () -> null).unavailableBecause()).isEqualTo("unavailable");
  }

  @Test
  void onLinuxKqueueDoesNotLoadAndSaysWhy() {
    Availability k = Availability.of(KQueue.isAvailable(), KQueue::unavailabilityCause);
    assertThat(k.available()).as("kqueue on Linux").isFalse();
    assertThat(k.unavailableBecause()).isNotBlank();
  }

  @Test
  void eachKindsChannelClassesGoWithItsGroup() throws Exception {
    EventLoopGroup nio = EventLoops.newGroup(1, "nio-test", Transport.NIO);
    EventLoopGroup epoll = EventLoops.newGroup(1, "epoll-test", Transport.EPOLL);
    try {
      assertThat(EventLoops.transport(nio)).isEqualTo(Transport.NIO);
      assertThat(EventLoops.transport(nio.next())).as("an event loop of the group").isEqualTo(Transport.NIO);
      assertThat(EventLoops.datagram(nio)).isEqualTo(NioDatagramChannel.class);
      assertThat(EventLoops.socket(nio)).isEqualTo(NioSocketChannel.class);
      assertThat(EventLoops.serverSocket(nio)).isEqualTo(NioServerSocketChannel.class);
      assertThat(EventLoops.transport(epoll.next())).isEqualTo(Transport.EPOLL);
      assertThat(EventLoops.datagram(epoll)).isEqualTo(EpollDatagramChannel.class);
      assertThat(EventLoops.socket(epoll)).isEqualTo(EpollSocketChannel.class);
      assertThat(EventLoops.serverSocket(epoll)).isEqualTo(EpollServerSocketChannel.class);
      assertThat(echoes(nio)).isEqualTo("hello nio");
      assertThat(echoes(epoll)).isEqualTo("hello epoll");
    } finally {
      nio.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      epoll.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  @Test
  void aGroupMadeElsewhereIsTakenForNio() {
    EventLoopGroup other = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
    try {
      assertThat(EventLoops.transport(other)).isEqualTo(Transport.NIO);
      assertThat(EventLoops.datagram(other)).isEqualTo(NioDatagramChannel.class);
    } finally {
      other.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** A datagram from a plain socket reaches a channel of {@code group}'s datagram class. */
  private static String echoes(EventLoopGroup group) throws Exception {
    CompletableFuture<String> got = new CompletableFuture<>();
    Channel ch = new Bootstrap().group(group).channel(EventLoops.datagram(group))
        .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
          @Override
          protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
            got.complete(p.content().toString(java.nio.charset.StandardCharsets.UTF_8));
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      byte[] b = ("hello " + EventLoops.transport(group).label()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      s.send(new java.net.DatagramPacket(b, b.length, ch.localAddress()));
      return got.get(10, TimeUnit.SECONDS);
    } finally {
      ch.close().sync();
    }
  }
}
