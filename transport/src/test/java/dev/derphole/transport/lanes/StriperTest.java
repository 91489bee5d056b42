package dev.derphole.transport.lanes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class StriperTest {
  /** A lane that records what it gets and has as much room as the test says. */
  static final class RecordingLane implements LaneSink {
    final List<Chunk> got = new ArrayList<>();
    int room;

    RecordingLane(int room) {
      this.room = room;
    }

    @Override
    public int room() {
      return room;
    }

    @Override
    public void send(Chunk chunk) {
      assertThat(chunk.encodedLength()).isLessThanOrEqualTo(room);
      got.add(chunk);
      room -= chunk.encodedLength();
    }

    List<Long> offsets() {
      return got.stream().map(Chunk::offset).toList();
    }
  }

  static final byte[] DATA = new byte[1000];

  static {
    for (int i = 0; i < DATA.length; i++) {
      DATA[i] = (byte) (i * 7);
    }
  }

  @Test
  void chunksGoRoundRobinToLanesWithRoom() throws IOException {
    List<RecordingLane> lanes = List.of(new RecordingLane(10_000), new RecordingLane(10_000), new RecordingLane(10_000));
    Striper s = new Striper(lanes, 100, 10_000);
    assertThat(s.write(DATA, 0, 700)).isEqualTo(700);
    assertThat(lanes.get(0).offsets()).containsExactly(0L, 300L, 600L);
    assertThat(lanes.get(1).offsets()).containsExactly(100L, 400L);
    assertThat(lanes.get(2).offsets()).containsExactly(200L, 500L);
    assertThat(lanes.get(1).got.get(0).payload()).isEqualTo(Arrays.copyOfRange(DATA, 100, 200));
    assertThat(s.sent()).isEqualTo(700);
  }

  @Test
  void aLaneThatJoinsLaterTakesItsShareFromThenOnAndTheResendsOfADeadOne() throws IOException {
    RecordingLane a = new RecordingLane(10_000);
    Striper s = new Striper(List.of(a), 100, 10_000);
    assertThat(s.write(DATA, 0, 300)).isEqualTo(300);
    RecordingLane b = new RecordingLane(10_000);
    assertThat(s.addLane(b)).isEqualTo(1);
    assertThat(s.lanes()).isEqualTo(2);
    assertThat(s.write(DATA, 300, 400)).isEqualTo(400);
    assertThat(a.offsets()).containsExactly(0L, 100L, 200L, 300L, 500L);
    assertThat(b.offsets()).containsExactly(400L, 600L);
    s.laneDied(0);
    assertThat(b.got.subList(2, b.got.size()).stream().map(Chunk::offset).toList()).containsExactly(0L, 100L, 200L, 300L, 500L);
    assertThat(b.got.get(2).resent()).isTrue();
  }

  @Test
  void aStalledLaneGetsNothingMore() throws IOException {
    RecordingLane stalled = new RecordingLane(0);
    RecordingLane a = new RecordingLane(10_000);
    RecordingLane b = new RecordingLane(10_000);
    Striper s = new Striper(List.of(a, stalled, b), 100, 10_000);
    assertThat(s.write(DATA, 0, 1000)).isEqualTo(1000);
    assertThat(stalled.got).isEmpty();
    assertThat(a.got).hasSize(5);
    assertThat(b.got).hasSize(5);
  }

  @Test
  void aChunkFitsTheRoomItsLaneHasAndNoneGoesWhereOnlyAHeaderFits() throws IOException {
    RecordingLane small = new RecordingLane(Chunk.HEADER_LENGTH + 10);
    RecordingLane headerOnly = new RecordingLane(Chunk.HEADER_LENGTH);
    Striper s = new Striper(List.of(small, headerOnly), 100, 10_000);
    assertThat(s.write(DATA, 0, 100)).isEqualTo(10);
    assertThat(small.got).containsExactly(new Chunk(0, false, Arrays.copyOf(DATA, 10)));
    assertThat(headerOnly.got).isEmpty();
    assertThat(s.write(DATA, 10, 90)).isZero();
    headerOnly.room = 1000;
    assertThat(s.write(DATA, 10, 90)).isEqualTo(90);
    assertThat(headerOnly.offsets()).containsExactly(10L);
  }

  @Test
  void theWindowBoundsWhatIsSentUnacknowledged() throws IOException {
    RecordingLane a = new RecordingLane(100_000);
    Striper s = new Striper(List.of(a), 100, 250);
    assertThat(s.write(DATA, 0, 1000)).isEqualTo(250);
    assertThat(s.unacknowledged()).isEqualTo(250);
    assertThat(s.write(DATA, 250, 750)).isZero();
    s.acknowledge(100);
    assertThat(s.write(DATA, 250, 750)).isEqualTo(100);
    assertThat(s.unacknowledged()).isEqualTo(250);
    assertThat(a.offsets()).containsExactly(0L, 100L, 200L, 250L);
    assertThatThrownBy(() -> s.acknowledge(351)).isInstanceOf(LaneProtocolException.class);
  }

  @Test
  void aDeadLanesUnacknowledgedChunksAreResentOnTheOthersBeforeNewBytes() throws IOException {
    RecordingLane a = new RecordingLane(10_000);
    RecordingLane b = new RecordingLane(10_000);
    RecordingLane c = new RecordingLane(10_000);
    Striper s = new Striper(List.of(a, b, c), 100, 10_000);
    assertThat(s.write(DATA, 0, 600)).isEqualTo(600);
    // b carried 100..200 and 400..500; the receiver has everything below 150.
    s.acknowledge(150);
    c.room = 0;
    s.laneDied(1);
    assertThat(s.isDead(1)).isTrue();
    List<Chunk> resent = a.got.subList(2, a.got.size());
    assertThat(resent).containsExactly(
        new Chunk(150, true, Arrays.copyOfRange(DATA, 150, 200)),
        new Chunk(400, true, Arrays.copyOfRange(DATA, 400, 500)));
    assertThat(s.unackedOn(1)).isEmpty();
    assertThat(s.write(DATA, 600, 100)).isEqualTo(100);
    assertThat(b.got).hasSize(2);
  }

  @Test
  void resentBytesWaitForRoomAndSplitToFitIt() throws IOException {
    RecordingLane a = new RecordingLane(10_000);
    RecordingLane b = new RecordingLane(10_000);
    Striper s = new Striper(List.of(a, b), 100, 10_000);
    s.write(DATA, 0, 400);
    a.room = 0;
    s.laneDied(1);
    assertThat(s.waitingToResend()).isEqualTo(200);
    assertThat(s.write(DATA, 400, 100)).as("new bytes wait behind resent ones").isZero();
    a.room = Chunk.HEADER_LENGTH + 30;
    s.pump();
    assertThat(a.got.get(2)).isEqualTo(new Chunk(100, true, Arrays.copyOfRange(DATA, 100, 130)));
    a.room = 10_000;
    assertThat(s.write(DATA, 400, 100)).isEqualTo(100);
    assertThat(a.offsets()).containsExactly(0L, 200L, 100L, 130L, 300L, 400L);
    assertThat(s.waitingToResend()).isZero();
  }

  @Test
  void aRetiredLaneTakesNoNewChunksNorResendsButKeepsWhatItHoldsUntilAcknowledged() throws IOException {
    RecordingLane a = new RecordingLane(10_000);
    RecordingLane b = new RecordingLane(10_000);
    RecordingLane c = new RecordingLane(10_000);
    Striper s = new Striper(List.of(a, b), 100, 10_000);
    assertThat(s.write(DATA, 0, 400)).isEqualTo(400);
    assertThat(s.addLane(c)).isEqualTo(2);
    s.retire(1);
    assertThat(s.isRetired(1)).isTrue();
    assertThat(s.write(DATA, 400, 400)).isEqualTo(400);
    assertThat(b.offsets()).as("nothing new on the retired lane").containsExactly(100L, 300L);
    assertThat(s.unackedOn(1)).hasSize(2);
    s.laneDied(2);
    assertThat(b.offsets()).as("no resends on the retired lane either").containsExactly(100L, 300L);
    s.acknowledge(400);
    assertThat(s.unackedOn(1)).isEmpty();
    s.laneDied(0);
    assertThat(s.write(DATA, 800, 100)).as("the last lane alive carries on, retired or not").isEqualTo(100);
    assertThat(b.offsets()).contains(800L);
  }

  @Test
  void losingEveryLaneIsAnError() throws IOException {
    RecordingLane a = new RecordingLane(10_000);
    RecordingLane b = new RecordingLane(10_000);
    Striper s = new Striper(List.of(a, b), 100, 10_000);
    s.write(DATA, 0, 300);
    s.laneDied(0);
    assertThatThrownBy(() -> s.laneDied(1)).isInstanceOf(IOException.class).hasMessage("all 2 lanes lost");
    assertThatThrownBy(() -> s.write(DATA, 300, 1)).hasMessage("all 2 lanes lost");
  }

  @Test
  void refusesBadArguments() {
    RecordingLane a = new RecordingLane(1);
    assertThatThrownBy(() -> new Striper(List.of(), 100, 1000)).hasMessageContaining("got 0");
    assertThatThrownBy(() -> new Striper(List.of(a), 0, 1000)).hasMessageContaining("got 0");
    assertThatThrownBy(() -> new Striper(List.of(a), 100, 99)).hasMessageContaining("window 99");
  }
}
