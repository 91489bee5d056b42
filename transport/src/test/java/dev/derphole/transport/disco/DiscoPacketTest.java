package dev.derphole.transport.disco;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class DiscoPacketTest {
  static final byte[] KEY = new byte[32];
  static final byte[] OTHER_KEY = new byte[32];
  static final byte[] TX = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

  static {
    Arrays.fill(KEY, (byte) 7);
    Arrays.fill(OTHER_KEY, (byte) 8);
  }

  @Test
  void pingAndPongRoundTrip() {
    DiscoPacket ping = new DiscoPacket(DiscoPacket.Kind.PING, 1, TX, Optional.empty());
    byte[] bytes = ping.encode(KEY);
    assertThat(bytes).hasSize(39);
    assertThat(DiscoPacket.looksLikeDisco(Unpooled.wrappedBuffer(bytes))).isTrue();
    assertThat(DiscoPacket.decode(KEY, bytes)).contains(ping);

    DiscoPacket pong = new DiscoPacket(DiscoPacket.Kind.PONG, 0, TX,
        Optional.of(new InetSocketAddress("198.51.100.10", 41641)));
    byte[] pb = pong.encode(KEY);
    assertThat(pb).hasSize(57);
    assertThat(DiscoPacket.decode(KEY, pb)).contains(pong);
  }

  @Test
  void theFirstBytesCannotBeMistakenForQuicOrStun() {
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PING, 0, TX, Optional.empty()).encode(KEY);
    assertThat(bytes[0] & 0x40).as("QUIC always sets the fixed bit").isZero();
    assertThat(dev.derphole.derp.stun.Stun.looksLikeStun(Unpooled.wrappedBuffer(bytes))).isFalse();
  }

  @Test
  void aPacketUnderAnotherSessionsKeyIsIgnored() {
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PING, 0, TX, Optional.empty()).encode(OTHER_KEY);
    assertThat(DiscoPacket.decode(KEY, bytes)).isEmpty();
  }

  @Property(tries = 200)
  void anyChangedByteIsRejected(@ForAll @IntRange(min = 0, max = 56) int index, @ForAll @IntRange(min = 1, max = 255) int flip) {
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PONG, 1, TX,
        Optional.of(new InetSocketAddress("10.1.0.2", 5000))).encode(KEY);
    bytes[index] ^= (byte) flip;
    assertThat(DiscoPacket.decode(KEY, bytes)).isEmpty();
  }

  @Property(tries = 200)
  void garbageNeverDecodes(@ForAll byte[] junk) {
    assertThat(DiscoPacket.decode(KEY, junk)).isEmpty();
  }

  @Test
  void truncatedOrExtendedPacketsAreRejected() {
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PING, 0, TX, Optional.empty()).encode(KEY);
    assertThat(DiscoPacket.decode(KEY, Arrays.copyOf(bytes, bytes.length - 1))).isEmpty();
    assertThat(DiscoPacket.decode(KEY, Arrays.copyOf(bytes, bytes.length + 1))).isEmpty();
  }
}
