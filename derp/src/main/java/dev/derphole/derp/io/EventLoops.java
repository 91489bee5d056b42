package dev.derphole.derp.io;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.kqueue.KQueue;
import io.netty.channel.kqueue.KQueueDatagramChannel;
import io.netty.channel.kqueue.KQueueIoHandler;
import io.netty.channel.kqueue.KQueueServerSocketChannel;
import io.netty.channel.kqueue.KQueueSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.function.Supplier;

/**
 * Event loops and the channel classes that go with them: Linux epoll where its native library
 * loads (it batches datagrams with sendmmsg/recvmmsg and sends a large packet's segments with one
 * UDP GSO call, which is most of the cost of a QUIC transfer), macOS kqueue where that loads, Java
 * NIO everywhere else (Windows, a platform whose native the jar lacks). What epoll adds only
 * batches system calls: on kqueue and NIO the same datagrams go one per call, and the peer cannot
 * tell the difference.
 *
 * <p>{@code -Dderphole.transport=nio} (through {@code DERPHOLE_JAVA_OPTS}) forces NIO, so the
 * fallback runs, and is tested, on Linux; {@code epoll} and {@code kqueue} ask for one (NIO where
 * it does not load), {@code auto} is the default.
 */
public final class EventLoops {
  /** The system property that picks the transport. */
  public static final String PROPERTY = "derphole.transport";

  /** The kinds of event loop, in the order {@code auto} tries them. */
  public enum Transport {
    EPOLL, KQUEUE, NIO;

    /** As the property and {@code --verbose} spell it. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * What a process uses: the transport, why (for {@code --verbose}), and a warning for the user
   * when the property's value meant nothing.
   */
  public record Choice(Transport transport, String why, Optional<String> warning) {
    /** {@code nio (forced by -Dderphole.transport=nio)}, {@code epoll}, and the like. */
    public String describe() {
      return why.isEmpty() ? transport.label() : transport.label() + " (" + why + ")";
    }
  }

  /** Whether a native transport loads here, and if not, why not. */
  public record Availability(boolean available, String unavailableBecause) {
    static Availability of(boolean available, Supplier<Throwable> cause) {
      if (available) {
        return new Availability(true, "");
      }
      Throwable t = cause.get();
      String why = t == null ? "unavailable" : t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
      return new Availability(false, why.lines().findFirst().orElse(why));
    }
  }

  private static final Map<EventLoopGroup, Transport> KINDS = Collections.synchronizedMap(new WeakHashMap<>());
  private static volatile Choice choice;

  private EventLoops() {}

  /**
   * Picks the transport from the property's value ({@code requested}, null when unset) and what
   * loads here. The natives are only asked for when needed: a forced NIO never touches them.
   */
  public static Choice choose(String requested, Supplier<Availability> epoll, Supplier<Availability> kqueue) {
    String r = requested == null ? "" : requested.trim().toLowerCase(Locale.ROOT);
    String forced = "-D" + PROPERTY + "=" + r;
    switch (r) {
      case "nio":
        return new Choice(Transport.NIO, "forced by " + forced, Optional.empty());
      case "epoll":
      case "kqueue": {
        Transport want = r.equals("epoll") ? Transport.EPOLL : Transport.KQUEUE;
        Availability a = (want == Transport.EPOLL ? epoll : kqueue).get();
        if (a.available()) {
          return new Choice(want, "forced by " + forced, Optional.empty());
        }
        return new Choice(Transport.NIO, r + " unavailable: " + a.unavailableBecause(),
            Optional.of(forced + ": " + r + " is not available here (" + a.unavailableBecause() + "); using nio"));
      }
      case "":
      case "auto":
        return auto(epoll, kqueue, Optional.empty());
      default:
        return auto(epoll, kqueue, Optional.of("ignoring " + forced + ": expected auto, nio, epoll or kqueue"));
    }
  }

  private static Choice auto(Supplier<Availability> epoll, Supplier<Availability> kqueue, Optional<String> warning) {
    Availability e = epoll.get();
    if (e.available()) {
      return new Choice(Transport.EPOLL, "", warning);
    }
    Availability k = kqueue.get();
    if (k.available()) {
      return new Choice(Transport.KQUEUE, "", warning);
    }
    return new Choice(Transport.NIO, "no epoll or kqueue here", warning);
  }

  /** This process's choice: {@link #PROPERTY} against what loads here, decided once. */
  public static Choice choice() {
    Choice c = choice;
    if (c == null) {
      synchronized (EventLoops.class) {
        c = choice;
        if (c == null) {
          c = choose(System.getProperty(PROPERTY),
              () -> Availability.of(Epoll.isAvailable(), Epoll::unavailabilityCause),
              () -> Availability.of(KQueue.isAvailable(), KQueue::unavailabilityCause));
          choice = c;
        }
      }
    }
    return c;
  }

  /** A group of {@code threads} event loops (0 = Netty's default) of this process's transport. */
  public static EventLoopGroup newGroup(int threads, String name) {
    return newGroup(threads, name, choice().transport());
  }

  /** A group of {@code threads} event loops of {@code transport}, which must be available. */
  public static EventLoopGroup newGroup(int threads, String name, Transport transport) {
    ThreadFactory tf = r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
    IoHandlerFactory io = switch (transport) {
      case EPOLL -> EpollIoHandler.newFactory();
      case KQUEUE -> KQueueIoHandler.newFactory();
      case NIO -> NioIoHandler.newFactory();
    };
    EventLoopGroup g = new MultiThreadIoEventLoopGroup(threads, tf, io);
    KINDS.put(g, transport);
    return g;
  }

  /** The transport of {@code group} (or of the group an event loop belongs to); NIO for groups made elsewhere. */
  public static Transport transport(EventLoopGroup group) {
    EventLoopGroup g = group instanceof EventLoop loop && loop.parent() != null ? loop.parent() : group;
    return KINDS.getOrDefault(g, Transport.NIO);
  }

  /**
   * For {@code --verbose}: {@code group}'s transport, with why this process chose it when it is
   * the process's choice ({@code nio (forced by -Dderphole.transport=nio)}).
   */
  public static String describe(EventLoopGroup group) {
    Transport t = transport(group);
    Choice c = choice();
    return c.transport() == t ? c.describe() : t.label();
  }

  public static Class<? extends SocketChannel> socket(EventLoopGroup group) {
    return switch (transport(group)) {
      case EPOLL -> EpollSocketChannel.class;
      case KQUEUE -> KQueueSocketChannel.class;
      case NIO -> NioSocketChannel.class;
    };
  }

  public static Class<? extends ServerSocketChannel> serverSocket(EventLoopGroup group) {
    return switch (transport(group)) {
      case EPOLL -> EpollServerSocketChannel.class;
      case KQUEUE -> KQueueServerSocketChannel.class;
      case NIO -> NioServerSocketChannel.class;
    };
  }

  public static Class<? extends DatagramChannel> datagram(EventLoopGroup group) {
    return switch (transport(group)) {
      case EPOLL -> EpollDatagramChannel.class;
      case KQUEUE -> KQueueDatagramChannel.class;
      case NIO -> NioDatagramChannel.class;
    };
  }
}
