package dev.derphole.session.share;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.transport.quic.QuicTransport;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link OpenListener} when the share side's QUIC stream credit runs out: real QUIC on loopback
 * between an open side and a {@link ShareServer} that grants only {@value #CREDIT} streams at once.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class OpenListenerStreamCreditTest {
  static final int CREDIT = 4;
  static final int SECONDS = 30;

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final List<AutoCloseable> closeMe = new ArrayList<>();
  private final BlockingQueue<String> refusals = new LinkedBlockingQueue<>();

  @AfterEach
  void stop() throws Exception {
    for (int i = closeMe.size() - 1; i >= 0; i--) {
      closeMe.get(i).close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /**
   * Beyond the credit a new connection is reset with a reason, as often as clients try; once the
   * connections holding the credit end, new ones work again. Netty spends a stream id on every
   * stream quiche refuses, so asking it for streams past the credit would leave the session unable
   * to open any stream ever again (seen under many short HTTP connections).
   */
  @Test
  void pastTheStreamCreditNewConnectionsAreResetAndTheSessionRecoversOnceStreamsEnd() throws Exception {
    ShareBridgeTest.Target target = ShareBridgeTest.Target.start(ShareBridgeTest.Target::echo);
    closeMe.add(target);
    InetSocketAddress at = listen(target.port());

    List<Socket> holding = new ArrayList<>();
    for (int i = 0; i < CREDIT; i++) {
      Socket s = new Socket(at.getAddress(), at.getPort());
      holding.add(s);
      s.setSoTimeout(SECONDS * 1000);
      s.getOutputStream().write('1');
      assertThat(s.getInputStream().read()).as("connection %d bridged", i).isEqualTo('1');
    }
    for (int i = 0; i < 20; i++) {
      try (Socket s = new Socket(at.getAddress(), at.getPort())) {
        s.setSoTimeout(SECONDS * 1000);
        assertThat(ShareBridgeTest.endOfStream(s)).as("attempt %d past the credit", i).isTrue();
      }
      assertThat(refusals.poll(SECONDS, TimeUnit.SECONDS)).as("attempt %d", i)
          .isEqualTo("the other side allows no more streams for now (its QUIC stream limit); resetting a new connection");
    }

    for (Socket s : holding) {
      s.shutdownOutput();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
      s.close();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
    for (;;) { // the credit comes back once the peer has seen those streams end
      try (Socket s = new Socket(at.getAddress(), at.getPort())) {
        s.setSoTimeout(SECONDS * 1000);
        s.getOutputStream().write("again".getBytes(StandardCharsets.US_ASCII));
        s.shutdownOutput();
        byte[] echo = readAllOrNothing(s);
        if (echo.length > 0) {
          assertThat(new String(echo, StandardCharsets.US_ASCII)).isEqualTo("again");
          break;
        }
      }
      assertThat(System.nanoTime()).as("a new connection works again").isLessThan(deadline);
      assertThat(refusals.poll(SECONDS, TimeUnit.SECONDS)).startsWith("the other side allows no more streams");
    }
  }

  /** A share of {@code targetPort} granting {@link #CREDIT} streams, and a listener on it; returns where clients dial. */
  private InetSocketAddress listen(int targetPort) throws Exception {
    TlsIdentity shareTls = TlsIdentity.generate();
    TlsIdentity openTls = TlsIdentity.generate();
    ShareServer server = new ShareServer(InetSocketAddress.createUnresolved("127.0.0.1", targetPort), ConnectionEvents.NONE);
    Channel shareUdp = udp();
    QuicTransport.serve(shareUdp, shareTls, openTls.publicKey(), new ChannelInboundHandlerAdapter(), server.streamHandler(), CREDIT);
    Channel openUdp = udp();
    QuicChannel quic = QuicTransport.connect(openUdp, (InetSocketAddress) openUdp.localAddress(),
        (InetSocketAddress) shareUdp.localAddress(), openTls, shareTls.publicKey(), new ChannelInboundHandlerAdapter(), new ChannelInboundHandlerAdapter())
        .get(SECONDS, TimeUnit.SECONDS);
    closeMe.add(() -> quic.close().awaitUninterruptibly(2, TimeUnit.SECONDS));
    OpenListener listener = OpenListener.bind(group, new InetSocketAddress("127.0.0.1", 0), 64,
        ShareBridgeTest.refusalsTo(refusals));
    closeMe.add(listener);
    listener.start(quic);
    return listener.localAddress();
  }

  private Channel udp() throws InterruptedException {
    Channel ch = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(new ChannelInboundHandlerAdapter())
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    closeMe.add(() -> ch.close().syncUninterruptibly());
    return ch;
  }

  /** Everything up to the end, or nothing when the connection was reset. */
  private static byte[] readAllOrNothing(Socket s) throws IOException {
    try {
      return s.getInputStream().readAllBytes();
    } catch (SocketException reset) {
      return new byte[0];
    }
  }
}
