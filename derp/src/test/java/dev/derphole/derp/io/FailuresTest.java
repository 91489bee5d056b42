package dev.derphole.derp.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real failures from the file system and from Netty's NIO and epoll transports, in plain words. */
class FailuresTest {
  @TempDir Path dir;

  @Test
  void fileErrorsReadAsWordsNotClassNames() throws Exception {
    assertThat(failure(() -> Files.readString(dir.resolve("absent")))).isEqualTo("no such file or directory");
    assertThat(failure(() -> Files.writeString(dir.resolve("absent/dir/x"), "x"))).isEqualTo("no such directory");
    assertThat(failure(() -> Files.readString(dir))).isEqualTo("is a directory");
    Files.writeString(dir.resolve("file"), "x");
    assertThat(failure(() -> Files.createFile(dir.resolve("file")))).isEqualTo("file exists");
    assertThat(failure(() -> Files.writeString(dir.resolve("file/x"), "x"))).isEqualTo("not a directory");
  }

  @Test
  void aRefusedConnectionAndATakenPortReadAsTheSystemSaysThem() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      InetSocketAddress takenAddress = new InetSocketAddress("127.0.0.1", taken.getLocalPort());
      for (Transport t : transports()) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, t.factory);
        try {
          Throwable refused = new Bootstrap().group(group).channel(t.socket).handler(new ChannelInboundHandlerAdapter())
              .connect(new InetSocketAddress("127.0.0.1", closed)).awaitUninterruptibly().cause();
          assertThat(Failures.describe(refused)).as(t.name).isEqualTo("Connection refused");
          Throwable inUse = new ServerBootstrap().group(group).channel(t.server).childHandler(new ChannelInboundHandlerAdapter())
              .bind(takenAddress).awaitUninterruptibly().cause();
          assertThat(Failures.describe(inUse)).as(t.name).isEqualTo("Address already in use");
        } finally {
          group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
      }
    }
  }

  @Test
  void otherMessagesPassThrough() {
    assertThat(Failures.describe(new IOException("token expired"))).isEqualTo("token expired");
    assertThat(Failures.describe(new IOException("cannot read: /etc/x:1"))).isEqualTo("cannot read: /etc/x:1");
    assertThat(Failures.describe(new IOException())).isEqualTo("input/output error");
  }

  private record Transport(String name, IoHandlerFactory factory, Class<? extends io.netty.channel.socket.SocketChannel> socket,
      Class<? extends io.netty.channel.socket.ServerSocketChannel> server) {}

  private static List<Transport> transports() {
    List<Transport> all = new ArrayList<>();
    all.add(new Transport("nio", NioIoHandler.newFactory(), NioSocketChannel.class, NioServerSocketChannel.class));
    if (Epoll.isAvailable()) {
      all.add(new Transport("epoll", EpollIoHandler.newFactory(), EpollSocketChannel.class, EpollServerSocketChannel.class));
    }
    return all;
  }

  private interface Io {
    void run() throws IOException;
  }

  private static String failure(Io io) {
    try {
      io.run();
    } catch (IOException e) {
      return Failures.describe(e);
    }
    throw new AssertionError("no failure");
  }
}
