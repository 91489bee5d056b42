package dev.derphole.transport.lanes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * A Striper and a Reassembler joined by lanes in memory: each lane a bounded queue of encoded
 * frames (its room is what the queue has left), read on the other side through the chunk decoder.
 * A lane's frame leaves its queue only when the Reassembler takes it, so a paused lane fills up and
 * the Striper stops giving it chunks, as a QUIC stream's flow control would.
 */
class StripedTransferTest {
  static final int MAX_PAYLOAD = 1000;

  static final class MemoryLane implements LaneSink {
    final int capacity;
    final ArrayDeque<byte[]> frames = new ArrayDeque<>();
    int queued;
    Chunk held;
    boolean resumed;
    boolean stalled;
    boolean dead;

    MemoryLane(int capacity) {
      this.capacity = capacity;
    }

    @Override
    public int room() {
      return dead ? 0 : capacity - queued;
    }

    @Override
    public void send(Chunk chunk) {
      assertThat(dead).isFalse();
      assertThat(chunk.encodedLength()).isLessThanOrEqualTo(room());
      frames.add(chunk.encode());
      queued += chunk.encodedLength();
    }

    boolean canStep() {
      return !dead && !stalled && (held != null ? resumed : !frames.isEmpty());
    }
  }

  final class Transfer {
    final Random random;
    final byte[] data;
    final List<MemoryLane> lanes = new ArrayList<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final Striper striper;
    final Reassembler reassembler;
    long maxBuffered;
    boolean everPaused;
    int written;

    Transfer(long seed, int size, int laneCount, int laneCapacity, long window, long bound) {
      random = new Random(seed);
      data = new byte[size];
      random.nextBytes(data);
      for (int i = 0; i < laneCount; i++) {
        lanes.add(new MemoryLane(laneCapacity));
      }
      striper = new Striper(lanes, MAX_PAYLOAD, window);
      reassembler = new Reassembler(laneCount, bound, out::write, lane -> lanes.get(lane).resumed = true);
    }

    /** One move of the sender, one frame on one lane, maybe an acknowledgement; false when stuck. */
    boolean step() throws IOException {
      if (written < data.length) {
        written += striper.write(data, written, data.length - written);
      } else {
        striper.pump();
      }
      List<Integer> ready = new ArrayList<>();
      for (int i = 0; i < lanes.size(); i++) {
        if (lanes.get(i).canStep()) {
          ready.add(i);
        }
      }
      if (ready.isEmpty()) {
        if (striper.acknowledged() < reassembler.delivered()) {
          striper.acknowledge(reassembler.delivered());
          return true;
        }
        return false;
      }
      int i = ready.get(random.nextInt(ready.size()));
      MemoryLane lane = lanes.get(i);
      Chunk chunk = lane.held;
      if (chunk == null) {
        chunk = Chunk.decode(ByteBuffer.wrap(lane.frames.peek()));
      }
      if (reassembler.offer(i, chunk) == Reassembler.Offer.PAUSED) {
        lane.held = chunk;
        lane.resumed = false;
        everPaused = true;
      } else {
        lane.held = null;
        lane.queued -= lane.frames.poll().length;
      }
      maxBuffered = Math.max(maxBuffered, reassembler.buffered());
      if (random.nextBoolean()) {
        striper.acknowledge(reassembler.delivered());
      }
      return true;
    }

    /** Runs until done or stuck; returns the steps taken. */
    int run() throws IOException {
      int steps = 0;
      while (reassembler.delivered() < data.length && step()) {
        steps++;
        assertThat(steps).isLessThan(1_000_000);
      }
      return steps;
    }

    void kill(int i) throws IOException {
      MemoryLane lane = lanes.get(i);
      lane.dead = true;
      lane.frames.clear(); // whatever it still carried is lost
      lane.held = null;
      lane.queued = 0;
      striper.laneDied(i);
    }
  }

  /**
   * Lane 0 stalls with the first chunk on it: the others run ahead until the receiver's bound is
   * full, then they pause, their queues fill and the sender stops. The receiver never holds more
   * than the bound; when lane 0 moves again everything arrives.
   */
  @Property(tries = 100)
  void aStalledLaneCannotMakeTheReceiverBufferMoreThanTheBound(@ForAll long seed,
      @ForAll @IntRange(min = 2, max = 6) int lanes, @ForAll @IntRange(min = 0, max = 20_000) int bound) throws IOException {
    Transfer t = new Transfer(seed, 200_000, lanes, 4 * (MAX_PAYLOAD + Chunk.HEADER_LENGTH), 50_000, bound);
    t.lanes.get(0).stalled = true;
    t.run();
    assertThat(t.reassembler.delivered()).isZero();
    assertThat(t.maxBuffered).isLessThanOrEqualTo(bound);
    assertThat(t.striper.sent()).isLessThan(200_000);
    t.lanes.get(0).stalled = false;
    t.run();
    assertThat(t.out.toByteArray()).isEqualTo(t.data);
    assertThat(t.maxBuffered).isLessThanOrEqualTo(bound);
  }

  /** With the bound at least the sender's window, no lane ever has to pause. */
  @Property(tries = 50)
  void aBoundAsLargeAsTheWindowNeverPauses(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int lanes) throws IOException {
    Transfer t = new Transfer(seed, 100_000, lanes, 3 * (MAX_PAYLOAD + Chunk.HEADER_LENGTH), 20_000, 20_000);
    t.run();
    assertThat(t.out.toByteArray()).isEqualTo(t.data);
    assertThat(t.everPaused).isFalse();
    assertThat(t.maxBuffered).isLessThanOrEqualTo(20_000);
  }

  /** A lane dies mid-transfer, losing what it carried: its chunks go again on the others, intact. */
  @Property(tries = 100)
  void aLaneThatDiesHasItsChunksResentOnTheOthers(@ForAll long seed, @ForAll @IntRange(min = 2, max = 6) int lanes,
      @ForAll @IntRange(min = 0, max = 300) int dieAfter) throws IOException {
    Transfer t = new Transfer(seed, 150_000, lanes, 3 * (MAX_PAYLOAD + Chunk.HEADER_LENGTH), 30_000, 30_000);
    int victim = (int) Math.floorMod(seed, (long) lanes);
    for (int i = 0; i < dieAfter && t.step(); i++) {
      // the transfer runs a while
    }
    t.kill(victim);
    // Had the victim's chunks not been resent, the transfer would stop short here.
    t.run();
    assertThat(t.out.toByteArray()).isEqualTo(t.data);
  }

  /** Every lane but one dies, one after another: the last carries the rest. */
  @Property(tries = 30)
  void allButOneLaneDying(@ForAll long seed) throws IOException {
    Transfer t = new Transfer(seed, 100_000, 4, 3 * (MAX_PAYLOAD + Chunk.HEADER_LENGTH), 20_000, 20_000);
    for (int victim = 0; victim < 3; victim++) {
      for (int i = 0; i < 40 && t.step(); i++) {
        // run a while
      }
      t.kill(victim);
    }
    t.run();
    assertThat(t.out.toByteArray()).isEqualTo(t.data);
  }
}
