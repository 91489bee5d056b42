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
  /** 2026-12-07T12:00:00Z in microseconds. */
  static final long COUNTER = 1_796_644_800_000_000L;

  static {
    Arrays.fill(KEY, (byte) 7);
    Arrays.fill(OTHER_KEY, (byte) 8);
  }

  @Test
  void pingAndPongRoundTrip() {
    DiscoPacket ping = new DiscoPacket(DiscoPacket.Kind.PING, 1, TX, COUNTER, Optional.empty());
    byte[] bytes = ping.encode(KEY);
    assertThat(bytes).hasSize(47);
    assertThat(DiscoPacket.looksLikeDisco(Unpooled.wrappedBuffer(bytes))).isTrue();
    assertThat(DiscoPacket.decode(KEY, bytes)).contains(ping);

    DiscoPacket pong = new DiscoPacket(DiscoPacket.Kind.PONG, 0, TX, COUNTER,
        Optional.of(new InetSocketAddress("198.51.100.10", 41641)));
    byte[] pb = pong.encode(KEY);
    assertThat(pb).hasSize(65);
    assertThat(DiscoPacket.decode(KEY, pb)).contains(pong);
  }

  @Test
  void goldenPing() {
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PING, 1, TX, COUNTER, Optional.empty()).encode(KEY);
    assertThat(java.util.HexFormat.of().formatHex(bytes)).isEqualTo(
        "0044484449534331" // magic "\0DHDISC1"
        + "02" // version 2
        + "01" // ping
        + "01" // sender role: claimant
        + "0102030405060708090a0b0c" // txid
        + "00066209f7177000" // counter: 1796644800000000 µs = 2026-12-07T12:00:00Z
        + "cb71f0218574c10a784b3928941a1633"); // HMAC-SHA256(key 07×32, the 31 bytes before)[0..16)
  }

  @Test
  void theFirstBytesCannotBeMistakenForQuicOrStun() {
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PING, 0, TX, COUNTER, Optional.empty()).encode(KEY);
    assertThat(bytes[0] & 0x40).as("QUIC always sets the fixed bit").isZero();
    assertThat(dev.derphole.derp.stun.Stun.looksLikeStun(Unpooled.wrappedBuffer(bytes))).isFalse();
  }

  @Test
  void aPacketUnderAnotherSessionsKeyIsIgnored() {
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PING, 0, TX, COUNTER, Optional.empty()).encode(OTHER_KEY);
    assertThat(DiscoPacket.decode(KEY, bytes)).isEmpty();
  }

  @Property(tries = 200)
  void anyChangedByteIsRejected(@ForAll @IntRange(min = 0, max = 64) int index, @ForAll @IntRange(min = 1, max = 255) int flip) {
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PONG, 1, TX, COUNTER,
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
    byte[] bytes = new DiscoPacket(DiscoPacket.Kind.PING, 0, TX, COUNTER, Optional.empty()).encode(KEY);
    assertThat(DiscoPacket.decode(KEY, Arrays.copyOf(bytes, bytes.length - 1))).isEmpty();
    assertThat(DiscoPacket.decode(KEY, Arrays.copyOf(bytes, bytes.length + 1))).isEmpty();
  }
}
