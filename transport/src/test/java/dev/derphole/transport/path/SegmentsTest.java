package dev.derphole.transport.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.derp.stun.Stun;
import dev.derphole.transport.disco.DiscoPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SegmentsTest {
  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(true);

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Property(tries = 300)
  void anyPacketComesBackWholeFromItsSegmentsInAnyOrderWithDuplicates(
      @ForAll @IntRange(min = Segments.DATAGRAM + 1, max = Segments.MAX_PACKET) int length,
      @ForAll long seed, @ForAll int number) {
    byte[] packet = random(length, seed);
    List<ByteBuf> segments = new ArrayList<>(Segments.split(Unpooled.wrappedBuffer(packet), number, ALLOC));
    for (ByteBuf s : segments) {
      assertThat(s.readableBytes()).isLessThanOrEqualTo(Segments.DATAGRAM);
      assertThat(Segments.isSegment(s)).isTrue();
      assertThat(Stun.looksLikeStun(s)).isFalse();
      assertThat(DiscoPacket.looksLikeDisco(s)).isFalse();
    }
    Random r = new Random(seed);
    segments.add(segments.get(r.nextInt(segments.size())).retainedDuplicate());
    Collections.shuffle(segments, r);
    Segments.Reassembly joiner = new Segments.Reassembly(ALLOC);
    ByteBuf whole = null;
    for (ByteBuf s : segments) {
      ByteBuf out = joiner.add(s);
      if (out != null) {
        assertThat(whole).as("one packet out, once").isNull();
        whole = out;
      }
    }
    assertThat(whole).isNotNull();
    assertThat(ByteBufUtil.getBytes(whole)).isEqualTo(packet);
    whole.release();
    assertThat(joiner.malformed()).isZero();
  }

  @Test
  void aPacketMissingASegmentNeverComesOutAndItsSlotIsReusedLater() {
    Segments.Reassembly joiner = new Segments.Reassembly(ALLOC);
    List<ByteBuf> first = Segments.split(Unpooled.wrappedBuffer(random(5000, 1)), 7, ALLOC);
    for (int i = 1; i < first.size(); i++) {
      assertThat(joiner.add(first.get(i))).isNull();
    }
    first.get(0).release(); // lost on the way
    byte[] later = random(4000, 2);
    ByteBuf whole = null;
    for (ByteBuf s : Segments.split(Unpooled.wrappedBuffer(later), 7 + Segments.SLOTS, ALLOC)) {
      ByteBuf out = joiner.add(s);
      whole = out != null ? out : whole;
    }
    assertThat(ByteBufUtil.getBytes(whole)).isEqualTo(later);
    whole.release();
    assertThat(joiner.dropped()).isEqualTo(1);
    joiner.clear();
  }

  @Test
  void malformedSegmentsAreIgnored() {
    Segments.Reassembly joiner = new Segments.Reassembly(ALLOC);
    byte[] payload = new byte[Segments.SEGMENT_PAYLOAD];
    // count 1, an index past the count, too many segments, a short middle segment, an empty last one
    int[][] bad = {{1, 0}, {3, 3}, {Segments.MAX_SEGMENTS + 1, 0}};
    for (int[] b : bad) {
      ByteBuf s = Unpooled.buffer().writeByte(Segments.MARK).writeByte(b[0]).writeByte(b[1]).writeInt(9)
          .writeBytes(payload);
      assertThat(joiner.add(s)).isNull();
    }
    ByteBuf shortMiddle = Unpooled.buffer().writeByte(Segments.MARK).writeByte(3).writeByte(0).writeInt(9)
        .writeBytes(new byte[10]);
    assertThat(joiner.add(shortMiddle)).isNull();
    ByteBuf emptyLast = Unpooled.buffer().writeByte(Segments.MARK).writeByte(2).writeByte(1).writeInt(9);
    assertThat(joiner.add(emptyLast)).isNull();
    assertThat(joiner.malformed()).isEqualTo(5);
  }

  @Test
  void aPacketOverTheLimitIsRefused() {
    assertThatThrownBy(() -> Segments.split(Unpooled.wrappedBuffer(new byte[Segments.MAX_PACKET + 1]), 0, ALLOC))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
