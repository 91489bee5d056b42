package dev.derphole.transport.path;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which way QUIC's packets leave, with the clock in the test's hands. */
class PeerPathTest {
  private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.7", 41641);
  private final AtomicLong now = new AtomicLong(TimeUnit.SECONDS.toNanos(100));
  private final PeerPath path = new PeerPath(now::get);
  private final EmbeddedChannel channel = new EmbeddedChannel(path);
  private final List<ByteBuf> relayed = new ArrayList<>();

  @AfterEach
  void release() {
    relayed.forEach(ByteBuf::release);
    channel.finishAndReleaseAll();
  }

  @Test
  void aSilentDirectPathAlsoSendsThroughTheRelayUntilThePeerIsHeardAgain() {
    path.relay(b -> relayed.add(b));
    path.direct(PEER); // promoted on the peer's answer: heard just now

    send("fresh");
    assertThat(directBytes()).containsExactly("fresh");
    assertThat(relayed).isEmpty();

    elapse(PeerPath.SUSPECT.toMillis() + 1); // nothing from the peer over direct since
    send("silent");
    assertThat(directBytes()).containsExactly("silent");
    assertThat(relayedBytes()).containsExactly("silent"); // the same packet, through the relay too

    // A datagram from the endpoint's address that no QUIC connection accepted (anyone on the path
    // can send one): passed on to QUIC, but no sign of life.
    channel.writeInbound(new DatagramPacket(Unpooled.copiedBuffer(new byte[] {0x40, 1, 2}), path.virtualLocal(), PEER));
    ((DatagramPacket) channel.readInbound()).release();
    send("unheard");
    assertThat(directBytes()).containsExactly("unheard");
    assertThat(relayedBytes()).containsExactly("silent", "unheard");

    // Authenticated disco from the peer: alive again. (Accepted QUIC: DirectPathTest, with a real connection.)
    path.heardDirect();
    send("pinged");
    assertThat(directBytes()).containsExactly("pinged");
    assertThat(relayedBytes()).containsExactly("silent", "unheard");
    assertThat(path.overlapPackets()).isEqualTo(2);
  }

  @Test
  void aLargePacketGoesWholeThroughTheRelayAndInSegmentsDirect() {
    path.relay(b -> relayed.add(b));
    path.direct(PEER);
    elapse(PeerPath.SUSPECT.toMillis() + 1);
    byte[] big = new byte[3 * Segments.DATAGRAM];
    new java.util.Random(7).nextBytes(big);
    channel.writeOutbound(new DatagramPacket(Unpooled.wrappedBuffer(big), path.virtualPeer()));

    assertThat(relayed).hasSize(1);
    assertThat(ByteBufUtil.getBytes(relayed.get(0))).isEqualTo(big);
    Segments.Reassembly joined = new Segments.Reassembly(channel.alloc());
    ByteBuf whole = null;
    for (DatagramPacket d; (d = channel.readOutbound()) != null; ) {
      assertThat(d.recipient()).isEqualTo(PEER);
      assertThat(d.content().readableBytes()).isLessThanOrEqualTo(Segments.DATAGRAM);
      ByteBuf done = joined.add(d.content());
      whole = done != null ? done : whole;
    }
    assertThat(whole).isNotNull();
    assertThat(ByteBufUtil.getBytes(whole)).isEqualTo(big);
    whole.release();
  }

  @Test
  void onTheRelayNothingIsSentTwice() {
    path.relay(b -> relayed.add(b));
    elapse(10_000);
    send("relayed");
    assertThat(relayedBytes()).containsExactly("relayed");
    assertThat((Object) channel.readOutbound()).isNull();
    assertThat(path.overlapPackets()).isZero();
  }

  private void elapse(long millis) {
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
  }

  private void send(String text) {
    channel.writeOutbound(new DatagramPacket(Unpooled.copiedBuffer(text, java.nio.charset.StandardCharsets.US_ASCII),
        path.virtualPeer()));
  }

  /** What left over direct UDP since the last call, as text; each went to the peer's endpoint. */
  private List<String> directBytes() {
    List<String> out = new ArrayList<>();
    for (DatagramPacket d; (d = channel.readOutbound()) != null; ) {
      assertThat(d.recipient()).isEqualTo(PEER);
      out.add(d.content().toString(java.nio.charset.StandardCharsets.US_ASCII));
      d.release();
    }
    return out;
  }

  private List<String> relayedBytes() {
    return relayed.stream().map(b -> b.toString(java.nio.charset.StandardCharsets.US_ASCII)).toList();
  }
}
