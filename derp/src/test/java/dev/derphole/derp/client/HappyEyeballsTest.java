package dev.derphole.derp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import dev.derphole.derp.stun.StunClient;
import dev.derphole.derp.stun.StunServer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HappyEyeballsTest {
  private EventLoopGroup group;
  private final List<AutoCloseable> closeMe = new ArrayList<>();

  @BeforeEach
  void start() {
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closeMe.size() - 1; i >= 0; i--) {
      closeMe.get(i).close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static InetSocketAddress at(String ip, int port) {
    return new InetSocketAddress(dev.derphole.derp.net.IpLiteral.parse(ip).orElseThrow(), port);
  }

  /**
   * A TCP address that takes SYNs and never answers them: a listener that never accepts, its
   * accept queue filled first (Linux then drops further SYNs, and a connect waits out its timeout).
   */
  private InetSocketAddress blackHole(String ip) throws Exception {
    ServerSocket s = new ServerSocket();
    s.bind(at(ip, 0), 1);
    closeMe.add(s);
    InetSocketAddress a = (InetSocketAddress) s.getLocalSocketAddress();
    for (int i = 0; i < 4; i++) {
      Socket filler = new Socket();
      closeMe.add(filler);
      try {
        filler.connect(a, 300);
      } catch (java.io.IOException full) {
        return a; // this one was not answered: the queue is full
      }
    }
    throw new AssertionError("the accept queue of " + a + " never filled");
  }

  private Bootstrap bootstrap(Duration connectTimeout) {
    return new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
        .handler(new io.netty.channel.ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {}
        });
  }

  @Test
  void familiesAreInterleavedIpv6First() {
    List<InetSocketAddress> mixed = List.of(at("192.0.2.1", 1), at("192.0.2.2", 1), at("2001:db8::1", 1),
        at("2001:db8::2", 1), at("2001:db8::3", 1));
    assertThat(HappyEyeballs.order(mixed)).containsExactly(at("2001:db8::1", 1), at("192.0.2.1", 1),
        at("2001:db8::2", 1), at("192.0.2.2", 1), at("2001:db8::3", 1));
  }

  @Test
  void anAddressThatNeverAnswersDoesNotHoldUpTheNextOne() throws Exception {
    InetSocketAddress hole = blackHole("::1");
    ServerSocket live = new ServerSocket();
    live.bind(at("127.0.0.1", 0));
    closeMe.add(live);
    // The black hole's attempt would wait a minute, longer than the whole budget: tried one after
    // the other, the live address would never be reached.
    HappyEyeballs.Connected won = HappyEyeballs.connect(bootstrap(Duration.ofMinutes(1)),
        List.of(hole, (InetSocketAddress) live.getLocalSocketAddress()), HappyEyeballs.ATTEMPT_DELAY,
        TimeUnit.SECONDS.toNanos(30));
    closeMe.add(() -> won.channel().close().sync());
    assertThat(won.address()).isEqualTo(live.getLocalSocketAddress());
    assertThat(won.channel().isActive()).isTrue();
  }

  @Test
  void whenNothingConnectsEveryAddressSaysWhy() throws Exception {
    int refused1;
    int refused2;
    try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
      refused1 = a.getLocalPort();
      refused2 = b.getLocalPort();
    }
    assertThatThrownBy(() -> HappyEyeballs.connect(bootstrap(Duration.ofSeconds(5)),
        List.of(at("::1", refused1), at("127.0.0.1", refused2)), HappyEyeballs.ATTEMPT_DELAY, TimeUnit.SECONDS.toNanos(30)))
        .hasMessageContaining("[::1]:" + refused1 + ": ").hasMessageContaining("127.0.0.1:" + refused2 + ": ");
  }

  @Test
  void aRelayWhoseIpv4AddressIsBlackHoledIsReachedOverIpv6() throws Exception {
    DerpServer relay = DerpServer.start(DerpServerConfig.builder().listen(new InetSocketAddress(0)).build());
    closeMe.add(relay);
    int port = relay.localAddress().getPort();
    InetSocketAddress hole = blackHole("127.0.0.1");
    DerpEndpoint endpoint = new DerpEndpoint("relay.test", port, false, List.of(hole, at("::1", port)), "", false);
    DerpClient c = DerpClient.connect(endpoint, NodePrivateKey.generate(), (src, pkt) -> { }, group,
        DerpClient.Options.defaults());
    closeMe.add(c);
    assertThat(c.remoteAddress().getAddress()).isEqualTo(at("::1", 0).getAddress());
  }

  @Test
  void anIpv6OnlyNodeOfTheMapIsReachedAndItsStunAnswersOverIpv6() throws Exception {
    // As derper listens by default: every address, both families.
    DerpServer relay = DerpServer.start(DerpServerConfig.builder().listen(new InetSocketAddress(0)).build());
    closeMe.add(relay);
    StunServer stun = StunServer.start(new InetSocketAddress(0), group);
    closeMe.add(stun);
    DerpNode node = new DerpNode("1a", 1, "relay.test", "", "", "::1", stun.localAddress().getPort(), false,
        relay.localAddress().getPort(), false, false, true);
    DerpClient c = DerpClient.connect(DerpEndpoint.of(node), NodePrivateKey.generate(), (src, pkt) -> { }, group,
        DerpClient.Options.defaults());
    closeMe.add(c);
    assertThat(c.remoteAddress().getAddress()).isEqualTo(at("::1", 0).getAddress());
    try (DatagramSocket s = new DatagramSocket(at("::1", 0))) {
      assertThat(StunClient.query(s, at("::1", stun.localAddress().getPort()), Duration.ofSeconds(10)))
          .contains((InetSocketAddress) s.getLocalSocketAddress());
    }
  }

  /**
   * A token carries one literal of a relay: an IPv6-only host given an IPv4 one (here the other
   * way round: the literal is ::1, the relay listens on 127.0.0.1 only) tries the relay's name next.
   */
  @Test
  void whenNoLiteralWorksTheRelaysNameIsResolvedAndDialled() throws Exception {
    DerpServer relay = DerpServer.start(DerpServerConfig.builder().listen(at("127.0.0.1", 0)).build());
    closeMe.add(relay);
    int port = relay.localAddress().getPort();
    DerpEndpoint endpoint = new DerpEndpoint("localhost", port, false, List.of(at("::1", port)), "", false);
    DerpClient c = DerpClient.connect(endpoint, NodePrivateKey.generate(), (src, pkt) -> { }, group,
        DerpClient.Options.defaults());
    closeMe.add(c);
    assertThat(c.remoteAddress().getAddress()).isEqualTo(at("127.0.0.1", 0).getAddress());
  }
}
