package dev.derphole.session.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link ReadGate}: when it reads, when it pauses, and that each pause ends with one read. */
class ReadGateTest {
  private final AtomicInteger reads = new AtomicInteger();
  private final ReadGate gate = new ReadGate(100, 40, reads::incrementAndGet);

  @Test
  void readsWhileTheBacklogIsBelowTheHighMark() {
    gate.added(99);
    gate.readOrPause();
    assertThat(reads).hasValue(1);
    assertThat(gate.paused()).isFalse();
  }

  @Test
  void pausesAtTheHighMarkAndReadsOnceWhenTheBacklogIsDownToTheLowMark() {
    gate.added(100);
    gate.readOrPause();
    assertThat(reads).as("no read at the high mark").hasValue(0);
    assertThat(gate.paused()).isTrue();
    gate.taken(59);
    assertThat(reads).as("still above the low mark").hasValue(0);
    gate.taken(1);
    assertThat(reads).as("at the low mark").hasValue(1);
    assertThat(gate.paused()).isFalse();
    gate.taken(40);
    assertThat(reads).as("a pause ends once").hasValue(1);
    assertThat(gate.backlog()).isZero();
  }

  @Test
  void takesWithoutAPauseNeverRead() {
    gate.added(10);
    gate.taken(10);
    assertThat(reads).hasValue(0);
  }

  @Test
  void marksMustBeOrdered() {
    assertThatThrownBy(() -> new ReadGate(10, 10, () -> { })).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("read gate needs 0 <= low < high, got low 10, high 10");
    assertThatThrownBy(() -> new ReadGate(10, -1, () -> { })).isInstanceOf(IllegalArgumentException.class);
  }
}
