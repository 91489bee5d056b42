package dev.derphole.transport.lanes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ReassemblerTest {
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final InOrderSink sink = out::write;
  final List<Integer> resumed = new ArrayList<>();

  Reassembler reassembler(int lanes, long bound) {
    return new Reassembler(lanes, bound, sink, resumed::add);
  }

  static Chunk chunk(long offset, String text) {
    return new Chunk(offset, false, text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
  }

  static Chunk resent(long offset, String text) {
    return chunk(offset, text).asResent();
  }

  String delivered() {
    return out.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  /**
   * Any cut of the stream into chunks, any spread of them over 1..8 lanes (each lane in offset
   * order, as the striper sends) and any interleaving of the lanes gives back the bytes; with a
   * bound smaller than the reordering, lanes pause and resume and the bound holds at every step.
   */
  @Property(tries = 300)
  void anyInterleavingAcrossLanesReassembles(@ForAll @Size(min = 1, max = 20_000) byte[] data,
      @ForAll @IntRange(min = 1, max = 8) int lanes, @ForAll @IntRange(min = 0, max = 25_000) int bound,
      @ForAll long seed) throws IOException {
    Random random = new Random(seed);
    List<ArrayDeque<Chunk>> onLane = new ArrayList<>();
    for (int i = 0; i < lanes; i++) {
      onLane.add(new ArrayDeque<>());
    }
    for (int off = 0; off < data.length; ) {
      int n = Math.min(data.length - off, 1 + random.nextInt(700));
      onLane.get(random.nextInt(lanes)).add(new Chunk(off, false, Arrays.copyOfRange(data, off, off + n)));
      off += n;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<Integer> resumed = new ArrayList<>();
    Reassembler r = new Reassembler(lanes, bound, out::write, resumed::add);
    boolean[] waiting = new boolean[lanes];
    for (int steps = 0; r.delivered() < data.length; steps++) {
      assertThat(steps).as("no progress: deadlock").isLessThan(100_000);
      for (int lane : resumed) {
        waiting[lane] = false;
      }
      resumed.clear();
      List<Integer> ready = new ArrayList<>();
      for (int i = 0; i < lanes; i++) {
        if (!waiting[i] && !onLane.get(i).isEmpty()) {
          ready.add(i);
        }
      }
      assertThat(ready).as("every lane paused: deadlock").isNotEmpty();
      int lane = ready.get(random.nextInt(ready.size()));
      if (r.offer(lane, onLane.get(lane).peek()) == Reassembler.Offer.PAUSED) {
        waiting[lane] = true; // the lane keeps its chunk and stops reading
        assertThat(r.isPaused(lane)).isTrue();
      } else {
        onLane.get(lane).poll();
      }
      assertThat(r.buffered()).isLessThanOrEqualTo(bound);
    }
    assertThat(out.toByteArray()).isEqualTo(data);
    assertThat(r.buffered()).isZero();
  }

  /** A peer sending one-byte chunks with gaps between is paused by the piece count, not the bytes. */
  @Test
  void tinyChunksWithGapsArePausedByThePieceCount() throws IOException {
    Reassembler r = reassembler(1, 1 << 20);
    assertThat(r.maxSegments()).isEqualTo(2048);
    long offset = 2;
    while (r.offer(0, resent(offset, "x")) == Reassembler.Offer.ACCEPTED) {
      offset += 2;
      assertThat(r.segments()).isLessThanOrEqualTo(r.maxSegments());
    }
    assertThat(r.segments()).isEqualTo(2048);
    assertThat(r.buffered()).isEqualTo(2048);
    // A chunk that only joins pieces already there adds none and is taken; the gap at 0 always is.
    assertThat(r.offer(0, resent(2, "x"))).isEqualTo(Reassembler.Offer.ACCEPTED);
    assertThat(r.offer(0, resent(0, "ab"))).isEqualTo(Reassembler.Offer.ACCEPTED);
    assertThat(r.delivered()).isEqualTo(3);
    assertThat(r.segments()).isEqualTo(2047);
  }

  @Test
  void bytesAheadWaitAndGoOutWhenTheGapFills() throws IOException {
    Reassembler r = reassembler(2, 100);
    r.offer(1, chunk(5, "fghij"));
    r.offer(1, chunk(12, "mn"));
    assertThat(delivered()).isEmpty();
    assertThat(r.buffered()).isEqualTo(7);
    r.offer(0, chunk(0, "abcde"));
    assertThat(delivered()).isEqualTo("abcdefghij");
    r.offer(0, chunk(10, "kl"));
    assertThat(delivered()).isEqualTo("abcdefghijklmn");
    assertThat(r.delivered()).isEqualTo(14);
    assertThat(r.buffered()).isZero();
  }

  @Test
  void aLaneTooFarAheadIsPausedAndResumedWhenDeliveryMoves() throws IOException {
    Reassembler r = reassembler(2, 4);
    assertThat(r.offer(1, chunk(2, "cd"))).isEqualTo(Reassembler.Offer.ACCEPTED);
    assertThat(r.offer(1, chunk(4, "efg"))).isEqualTo(Reassembler.Offer.PAUSED);
    assertThat(r.buffered()).isEqualTo(2);
    assertThat(resumed).isEmpty();
    assertThat(r.offer(0, chunk(0, "ab"))).isEqualTo(Reassembler.Offer.ACCEPTED);
    assertThat(resumed).containsExactly(1);
    assertThat(r.offer(1, chunk(4, "efg"))).isEqualTo(Reassembler.Offer.ACCEPTED);
    assertThat(delivered()).isEqualTo("abcdefg");
    assertThat(r.isPaused(1)).isFalse();
  }

  @Test
  void overlapsThatAgreeAreTakenOnceAndOverlapsThatDisagreeAreRefused() throws IOException {
    Reassembler r = reassembler(3, 100);
    r.offer(1, chunk(4, "efgh"));
    r.offer(2, resent(2, "cdefghij")); // overlaps the held bytes, agrees
    assertThat(r.buffered()).isEqualTo(8);
    assertThatThrownBy(() -> r.offer(0, resent(6, "gX"))).isInstanceOf(LaneProtocolException.class)
        .hasMessage("chunks disagree about the bytes at 6..8");
    // Straight-through delivery is checked against the held bytes too.
    assertThatThrownBy(() -> r.offer(0, chunk(0, "abcZ"))).hasMessage("chunks disagree about the bytes at 2..4");
    r.offer(0, chunk(0, "abcd"));
    assertThat(delivered()).isEqualTo("abcdefghij");
  }

  @Test
  void aFreshChunkGoingBackwardsOnItsLaneIsRefused() throws IOException {
    Reassembler r = reassembler(2, 100);
    r.offer(0, chunk(10, "kl"));
    assertThatThrownBy(() -> r.offer(0, chunk(11, "l"))).isInstanceOf(LaneProtocolException.class)
        .hasMessage("lane 0 went backwards: chunk at 11 after one ending at 12");
    assertThatThrownBy(() -> r.offer(0, chunk(0, "a"))).isInstanceOf(LaneProtocolException.class);
    // The other lane, and resent bytes, are not bound by lane 0's order.
    r.offer(1, chunk(0, "abcdefghij"));
    r.offer(0, resent(3, "def"));
    assertThat(delivered()).isEqualTo("abcdefghijkl");
  }

  @Test
  void bytesAgainBelowTheDeliveredOffsetAreDroppedAsDuplicates() throws IOException {
    Reassembler r = reassembler(2, 0);
    r.offer(0, chunk(0, "abcdef"));
    r.offer(1, resent(2, "cd"));
    r.offer(1, resent(4, "efgh"));
    assertThat(delivered()).isEqualTo("abcdefgh");
    assertThat(r.duplicates()).isEqualTo(4);
  }
}
