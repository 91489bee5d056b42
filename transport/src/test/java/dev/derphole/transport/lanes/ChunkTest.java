package dev.derphole.transport.lanes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ChunkTest {
  @Test
  void goldenFrame() {
    Chunk c = new Chunk(0x0102030405L, true, new byte[] {(byte) 0xaa, (byte) 0xbb, (byte) 0xcc});
    assertThat(HexFormat.of().formatHex(c.encode())).isEqualTo(
        "01"                  // flags: resent
        + "0000000102030405"  // stream offset
        + "00000003"          // length
        + "aabbcc");          // payload
    assertThat(c.encodedLength()).isEqualTo(16);
  }

  @Property
  void roundTripsOneByOneInOneStream(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE - Chunk.MAX_PAYLOAD) long offset,
      @ForAll boolean resent, @ForAll @Size(min = 1, max = 3000) byte[] payload, @ForAll @Size(min = 1, max = 50) byte[] second)
      throws Exception {
    Chunk a = new Chunk(offset, resent, payload);
    Chunk b = new Chunk(offset / 2, !resent, second);
    ByteBuffer stream = ByteBuffer.allocate(a.encodedLength() + b.encodedLength());
    a.encode(stream);
    b.encode(stream);
    stream.flip();
    // A frame cut short is not read, and nothing is consumed.
    ByteBuffer partial = stream.duplicate().limit(a.encodedLength() - 1);
    assertThat(Chunk.decode(partial)).isNull();
    assertThat(partial.position()).isZero();
    assertThat(Chunk.decode(stream)).isEqualTo(a);
    assertThat(Chunk.decode(stream)).isEqualTo(b);
    assertThat(stream.hasRemaining()).isFalse();
    assertThat(Chunk.decode(stream)).isNull();
  }

  /** A hostile length is refused from its header alone, before any payload is waited for. */
  @Property
  void refusesLengthOverTheMaxFromTheHeader(@ForAll @LongRange(min = Chunk.MAX_PAYLOAD + 1L, max = 0xffffffffL) long length) {
    ByteBuffer header = ByteBuffer.allocate(Chunk.HEADER_LENGTH).put((byte) 0).putLong(0).putInt((int) length).flip();
    assertThatThrownBy(() -> Chunk.decode(header)).isInstanceOf(LaneProtocolException.class)
        .hasMessageContaining("length " + length);
  }

  @Test
  void refusesEmptyChunksUnknownFlagsAndOffsetsOutOfRange() {
    assertThatThrownBy(() -> Chunk.decode(header(0, 0, 0))).hasMessageContaining("length 0");
    assertThatThrownBy(() -> Chunk.decode(header(2, 0, 1))).hasMessageContaining("unknown flags 2");
    assertThatThrownBy(() -> Chunk.decode(header(0x81, 0, 1))).hasMessageContaining("unknown flags 81");
    assertThatThrownBy(() -> Chunk.decode(header(0, -1, 1))).hasMessageContaining("offset 18446744073709551615");
    assertThatThrownBy(() -> Chunk.decode(header(0, Long.MAX_VALUE, 1))).hasMessageContaining("out of range");
    assertThatThrownBy(() -> new Chunk(Long.MAX_VALUE - 1, false, new byte[2])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Chunk(0, false, new byte[0])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Chunk(0, false, new byte[Chunk.MAX_PAYLOAD + 1])).isInstanceOf(IllegalArgumentException.class);
  }

  @Property
  void theLargestFrameIsRead(@ForAll @IntRange(min = Chunk.MAX_PAYLOAD - 2, max = Chunk.MAX_PAYLOAD) int length) throws Exception {
    Chunk c = new Chunk(7, false, new byte[length]);
    assertThat(Chunk.decode(ByteBuffer.wrap(c.encode()))).isEqualTo(c);
  }

  private static ByteBuffer header(int flags, long offset, int length) {
    return ByteBuffer.allocate(Chunk.HEADER_LENGTH).put((byte) flags).putLong(offset).putInt(length).flip();
  }
}
