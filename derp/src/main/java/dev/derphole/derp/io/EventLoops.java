package dev.derphole.derp.io;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ThreadFactory;

/**
 * Event loops and the channel classes that go with them: Linux epoll where its native library
 * loads (it batches datagrams with sendmmsg/recvmmsg, which is most of the cost of a QUIC
 * transfer), Java NIO everywhere else. {@code DERPHOLE_NIO=1} forces NIO.
 */
public final class EventLoops {
  private static final Set<EventLoopGroup> EPOLL = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
  private static final boolean USE_EPOLL = Epoll.isAvailable() && !"1".equals(System.getenv("DERPHOLE_NIO"));

  private EventLoops() {}

  /** A group of {@code threads} event loops (0 = Netty's default), epoll when available. */
  public static EventLoopGroup newGroup(int threads, String name) {
    ThreadFactory tf = r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
    if (USE_EPOLL) {
      EventLoopGroup g = new MultiThreadIoEventLoopGroup(threads, tf, EpollIoHandler.newFactory());
      EPOLL.add(g);
      return g;
    }
    return new MultiThreadIoEventLoopGroup(threads, tf, NioIoHandler.newFactory());
  }

  private static boolean epoll(EventLoopGroup group) {
    EventLoopGroup g = group instanceof EventLoop loop && loop.parent() != null ? loop.parent() : group;
    return EPOLL.contains(g);
  }

  public static Class<? extends SocketChannel> socket(EventLoopGroup group) {
    return epoll(group) ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  public static Class<? extends ServerSocketChannel> serverSocket(EventLoopGroup group) {
    return epoll(group) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  public static Class<? extends DatagramChannel> datagram(EventLoopGroup group) {
    return epoll(group) ? EpollDatagramChannel.class : NioDatagramChannel.class;
  }
}
