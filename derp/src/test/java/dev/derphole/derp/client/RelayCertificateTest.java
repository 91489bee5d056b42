package dev.derphole.derp.client;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.derp.frame.PeerGoneReason;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import dev.derphole.derp.tls.DerpTls;
import dev.derphole.derp.tls.SelfSignedCertificate;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A relay whose certificate fails verification is refused at once, with the reason: waiting for a
 * connection that no retry can make is not a time-out ("could not reach DERP server").
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RelayCertificateTest {
  /** Far longer than the test's time-out: the answer must come from the refusal, not from the clock. */
  private static final Duration PATIENT = Duration.ofDays(1);

  private static final Duration HANDSHAKE = Duration.ofMillis(300);

  private EventLoopGroup group;
  private DerpServer server;
  private SelfSignedCertificate cert;

  @BeforeEach
  void start() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    cert = SelfSignedCertificate.generate(List.of("derp.test"));
    server = DerpServer.start(DerpServerConfig.builder().tls(DerpTls.server(cert.keyPair().getPrivate(), cert.certificate()))
        .handshakeTimeout(HANDSHAKE).build());
  }

  @AfterEach
  void stop() {
    server.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private DerpEndpoint endpoint(String certName) {
    int port = server.localAddress().getPort();
    return new DerpEndpoint("derp.test", port, true, List.of(new InetSocketAddress("127.0.0.1", port)), certName, false);
  }

  private void refused(DerpEndpoint endpoint, String why) {
    try (ReconnectingDerpClient client = new ReconnectingDerpClient(endpoint, NodePrivateKey.generate(), new Silent(), group,
        DerpClient.Options.defaults()).start()) {
      assertThatThrownBy(() -> client.awaitConnected(PATIENT))
          .isInstanceOf(RelayCertificateException.class)
          .hasMessageStartingWith("DERP https://derp.test:" + server.localAddress().getPort() + "/derp (127.0.0.1:"
              + server.localAddress().getPort() + "): TLS handshake failed: the relay's certificate was refused: ")
          .hasMessageEndingWith(why);
    }
  }

  @Test
  void aStalePinIsRefusedAtOnceAndSaysSo() throws Exception {
    String stale = SelfSignedCertificate.generate(List.of("derp.test")).certName();
    refused(endpoint(stale), "it does not match the sha256-raw CertName pinned for it");
  }

  @Test
  void anUnpinnedSelfSignedRelayIsRefusedAtOnceAndSaysWhy() {
    refused(endpoint(""), "no authority this machine trusts signed it (a self-signed relay needs its sha256-raw CertName"
        + " in the DERP map)");
  }

  /** The relay does not log a handshake time-out for a connection the refusing client already closed. */
  @Test
  void theRelayForgetsARefusedConnectionInsteadOfTimingItOut() throws Exception {
    String stale = SelfSignedCertificate.generate(List.of("derp.test")).certName();
    assertThatThrownBy(() -> DerpClient.connect(endpoint(stale), NodePrivateKey.generate(), new Silent(), group,
        DerpClient.Options.defaults())).isInstanceOf(RelayCertificateException.class);
    while (server.metrics().connections() > 0) {
      Thread.sleep(10);
    }
    // Proving that nothing happens needs a window: three handshake time-outs after the close.
    Thread.sleep(3 * HANDSHAKE.toMillis());
    org.assertj.core.api.Assertions.assertThat(server.metrics().handshakeTimeouts()).isZero();
  }

  private static final class Silent implements DerpClientListener {
    @Override
    public void onPacket(NodePublicKey source, ByteBuf payload) {
      payload.release();
    }

    @Override
    public void onPeerGone(NodePublicKey peer, PeerGoneReason reason) {}
  }
}
