package dev.derphole.session.claim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.ByteRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EnvelopeTest {
  private static final byte[] KEY = filled(32, 0x5A);
  private static final byte[] SESSION = filled(16, 0x01);
  private static final byte[] MESSAGE = "{\"hello\":\"issuer\"}".getBytes(StandardCharsets.UTF_8);

  @ParameterizedTest
  @EnumSource(EnvelopeKind.class)
  void sealThenOpen(EnvelopeKind kind) {
    byte[] packet = Envelope.seal(kind, KEY, SESSION, MESSAGE);

    assertThat(packet).hasSize(Envelope.OVERHEAD + MESSAGE.length);
    assertThat(packet[0]).isEqualTo((byte) 0x00);
    assertThat(packet[1]).isEqualTo((byte) 0x01);
    assertThat(packet[2]).isEqualTo((byte) kind.code());
    assertThat(Envelope.isEnvelope(packet)).isTrue();
    assertThat(Envelope.open(KEY, SESSION, packet))
        .contains(new Envelope.Opened(kind, MESSAGE));
  }

  @Test
  void nonceIsFreshEachTime() {
    byte[] a = Envelope.seal(EnvelopeKind.CLAIM, KEY, SESSION, MESSAGE);
    byte[] b = Envelope.seal(EnvelopeKind.CLAIM, KEY, SESSION, MESSAGE);
    assertThat(Arrays.copyOfRange(a, 3, 15)).isNotEqualTo(Arrays.copyOfRange(b, 3, 15));
  }

  @Test
  void wrongKeyOrSessionOpensNothing() {
    byte[] packet = Envelope.seal(EnvelopeKind.CLAIM, KEY, SESSION, MESSAGE);
    assertThat(Envelope.open(filled(32, 0x5B), SESSION, packet)).isEmpty();
    assertThat(Envelope.open(KEY, filled(16, 0x02), packet)).isEmpty();
  }

  @Test
  void everyFlippedBitOpensNothing() {
    byte[] packet = Envelope.seal(EnvelopeKind.DECISION, KEY, SESSION, MESSAGE);
    for (int i = 0; i < packet.length; i++) {
      for (int bit = 0; bit < 8; bit++) {
        byte[] tampered = packet.clone();
        tampered[i] ^= (byte) (1 << bit);
        assertThat(Envelope.open(KEY, SESSION, tampered)).as("byte %d bit %d", i, bit).isEmpty();
      }
    }
  }

  @Test
  void changingTheKindOpensNothing() {
    byte[] packet = Envelope.seal(EnvelopeKind.CLAIM, KEY, SESSION, MESSAGE);
    packet[2] = (byte) EnvelopeKind.DECISION.code();
    assertThat(Envelope.open(KEY, SESSION, packet)).isEmpty();
  }

  @Test
  void truncatedOrExtendedOpensNothing() {
    byte[] packet = Envelope.seal(EnvelopeKind.CONTROL, KEY, SESSION, MESSAGE);
    for (int length = 0; length < packet.length; length++) {
      assertThat(Envelope.open(KEY, SESSION, Arrays.copyOf(packet, length))).isEmpty();
    }
    assertThat(Envelope.open(KEY, SESSION, Arrays.copyOf(packet, packet.length + 1))).isEmpty();
    assertThat(Envelope.open(KEY, SESSION, new byte[Envelope.MAX_PACKET + 1])).isEmpty();
  }

  @Test
  void emptyPlaintextIsFine() {
    byte[] packet = Envelope.seal(EnvelopeKind.CONTROL, KEY, SESSION, new byte[0]);
    assertThat(packet).hasSize(Envelope.OVERHEAD);
    assertThat(Envelope.open(KEY, SESSION, packet))
        .contains(new Envelope.Opened(EnvelopeKind.CONTROL, new byte[0]));
  }

  @Test
  void sealRefusesBadArguments() {
    assertThatThrownBy(() -> Envelope.seal(EnvelopeKind.CLAIM, new byte[16], SESSION, MESSAGE))
        .hasMessage("envelope key must be 32 bytes, got 16");
    assertThatThrownBy(() -> Envelope.seal(EnvelopeKind.CLAIM, KEY, new byte[8], MESSAGE))
        .hasMessage("session id must be 16 bytes, got 8");
    assertThatThrownBy(() -> Envelope.seal(EnvelopeKind.CLAIM, KEY, SESSION,
            new byte[Envelope.MAX_PACKET - Envelope.OVERHEAD + 1]))
        .hasMessageContaining("at most");
  }

  @Test
  void quicPacketsAreNotEnvelopes() {
    // QUIC long header 0xC0.., short header 0x40..: the fixed bit 0x40 is always set.
    assertThat(Envelope.isEnvelope(new byte[] {(byte) 0xC3, 0, 0, 0, 1})).isFalse();
    assertThat(Envelope.isEnvelope(new byte[] {0x41, 1, 2})).isFalse();
    assertThat(Envelope.isEnvelope(new byte[0])).isFalse();
    assertThat(Envelope.isEnvelope(new byte[] {0})).isTrue();
  }

  @Test
  void byteBufCheckReadsWithoutConsuming() {
    ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {0x41, 0x00, 0x01});
    try {
      assertThat(Envelope.isEnvelope(buf)).isFalse();
      buf.skipBytes(1);
      assertThat(Envelope.isEnvelope(buf)).isTrue();
      assertThat(buf.readerIndex()).isEqualTo(1);
      buf.skipBytes(2);
      assertThat(Envelope.isEnvelope(buf)).isFalse();
    } finally {
      buf.release();
    }
  }

  @Property
  void tamperingAnywhereOpensNothing(
      @ForAll @Size(max = 300) byte[] plaintext,
      @ForAll @IntRange(min = 0, max = 100_000) int position,
      @ForAll @ByteRange(min = 1) byte xor) {
    byte[] packet = Envelope.seal(EnvelopeKind.CLAIM, KEY, SESSION, plaintext);
    packet[position % packet.length] ^= xor;
    assertThat(Envelope.open(KEY, SESSION, packet)).isEmpty();
  }

  @Property
  void garbageNeverThrows(@ForAll @Size(max = 200) byte[] packet, @ForAll boolean markIt) {
    if (markIt && packet.length >= 3) {
      packet[0] = 0;
      packet[1] = 1;
      packet[2] = 1;
    }
    assertThat(Envelope.open(KEY, SESSION, packet)).isEmpty();
  }

  private static byte[] filled(int length, int value) {
    byte[] out = new byte[length];
    Arrays.fill(out, (byte) value);
    return out;
  }
}
