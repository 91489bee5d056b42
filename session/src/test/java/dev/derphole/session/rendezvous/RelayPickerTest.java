package dev.derphole.session.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import dev.derphole.session.token.CustomRelay;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RelayPickerTest {
  /**
   * A token's relay carries one IP literal (IPv4 when the node has both). A claimant that cannot
   * reach it (an IPv6-only host; here the mirror case: the literal is ::1, the relay listens on
   * 127.0.0.1 only) reaches the relay by its host name instead (docs/protocol.md).
   */
  @Test
  void aTokensRelayWhoseLiteralCannotBeReachedIsReachedByItsName() throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try (DerpServer relay = DerpServer.start(DerpServerConfig.builder()
        .listen(new InetSocketAddress("127.0.0.1", 0)).build())) {
      int port = relay.localAddress().getPort();
      CustomRelay hint = new CustomRelay("localhost", port, false, Optional.empty(), Optional.of("::1"));
      try (DerpClient c = DerpClient.connect(RelayPicker.endpoint(hint), NodePrivateKey.generate(), (src, pkt) -> { },
          group, DerpClient.Options.defaults())) {
        assertThat(c.remoteAddress().getAddress()).isEqualTo(InetAddress.getByName("127.0.0.1"));
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
