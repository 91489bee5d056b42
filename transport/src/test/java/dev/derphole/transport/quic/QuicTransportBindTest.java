package dev.derphole.transport.quic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.io.EventLoops.Transport;
import dev.derphole.transport.path.PeerPath;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The session's UDP socket reads the largest datagram the direct path sends whole, on every
 * transport: epoll's recvmmsg slots and kqueue's and NIO's single reads are {@link
 * QuicTransport#DATAGRAM_READ} bytes, and a longer datagram (never one of ours) is cut there.
 */
class QuicTransportBindTest {
  @Test
  void onNioTheLargestDirectDatagramArrivesWholeAndALongerOneIsCutAtTheBound() throws Exception {
    assertThat(readSizes(Transport.NIO, PeerPath.MAX_DATAGRAM, 1, QuicTransport.DATAGRAM_READ + 1000))
        .containsExactly(PeerPath.MAX_DATAGRAM, 1, QuicTransport.DATAGRAM_READ);
  }

  @Test
  void onEpollTheLargestDirectDatagramArrivesWhole() throws Exception {
    assertThat(readSizes(Transport.EPOLL, PeerPath.MAX_DATAGRAM, 1, PeerPath.MAX_DATAGRAM))
        .containsExactly(PeerPath.MAX_DATAGRAM, 1, PeerPath.MAX_DATAGRAM);
  }

  /** Binds a session socket on {@code transport}, sends datagrams of {@code sizes} from a trusted peer, returns what QUIC would read. */
  private static int[] readSizes(Transport transport, int... sizes) throws Exception {
    EventLoopGroup group = EventLoops.newGroup(1, "bind-test", transport);
    LinkedBlockingQueue<Integer> read = new LinkedBlockingQueue<>();
    try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      PeerPath path = new PeerPath();
      path.trust((InetSocketAddress) peer.getLocalSocketAddress());
      DatagramChannel udp = QuicTransport.bind(group, new InetSocketAddress("127.0.0.1", 0), path);
      try {
        // Added on the channel's event loop and waited for: a handler added from another thread is
        // passed over until its handlerAdded has run there, and a datagram read first would skip it.
        udp.eventLoop().submit(() -> udp.pipeline().addLast(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object m) {
            read.add(((DatagramPacket) m).content().readableBytes());
            ReferenceCountUtil.release(m);
          }
        })).sync();
        int[] got = new int[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
          byte[] b = new byte[sizes[i]];
          b[0] = 0x40; // a QUIC short header's first byte: not a segment, not STUN or disco
          peer.send(new java.net.DatagramPacket(b, b.length, udp.localAddress()));
          Integer n = read.poll(10, TimeUnit.SECONDS);
          assertThat(n).as("datagram %d (%d bytes) read", i, sizes[i]).isNotNull();
          got[i] = n;
        }
        return got;
      } finally {
        udp.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
