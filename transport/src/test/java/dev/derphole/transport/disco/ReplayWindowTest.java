package dev.derphole.transport.disco;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which ping counters pass: fresh, new, not too far behind the newest; memory bounded. */
class ReplayWindowTest {
  static final long NOW = 1_796_644_800_000_000L;
  static final long SKEW = ReplayWindow.MAX_SKEW.toNanos() / 1000;
  static final long REORDER = ReplayWindow.REORDER.toNanos() / 1000;

  @Test
  void eachCounterPassesOnce() {
    ReplayWindow w = new ReplayWindow();
    assertThat(w.accept(NOW, NOW)).isTrue();
    assertThat(w.accept(NOW, NOW)).isFalse();
    assertThat(w.accept(NOW + 1, NOW)).isTrue();
  }

  @Test
  void aLittleReorderingIsFineButNotMoreThanTheWindow() {
    ReplayWindow w = new ReplayWindow();
    assertThat(w.accept(NOW + 1000, NOW)).isTrue();
    assertThat(w.accept(NOW, NOW)).as("sent just before, arrived after").isTrue();
    assertThat(w.accept(NOW + 1000 + REORDER + 10, NOW)).isTrue();
    assertThat(w.accept(NOW + 500, NOW)).as("more than the window behind the newest").isFalse();
  }

  @Test
  void aPingFromTooFarInThePastOrFutureIsRefused() {
    ReplayWindow w = new ReplayWindow();
    assertThat(w.accept(NOW - SKEW - 1, NOW)).isFalse();
    assertThat(w.accept(NOW + SKEW + 1, NOW)).isFalse();
    assertThat(w.accept(Long.MIN_VALUE, NOW)).isFalse();
    assertThat(w.accept(Long.MAX_VALUE, NOW)).isFalse();
    assertThat(w.accept(NOW - SKEW, NOW)).as("a peer's clock 2 minutes behind").isTrue();
  }

  @Test
  void memoryIsBoundedAndWhatIsForgottenIsRefused() {
    ReplayWindow w = new ReplayWindow();
    for (int i = 0; i < ReplayWindow.MAX_REMEMBERED + 100; i++) {
      assertThat(w.accept(NOW + i, NOW)).isTrue();
    }
    assertThat(w.remembered()).isEqualTo(ReplayWindow.MAX_REMEMBERED);
    assertThat(w.accept(NOW + 5, NOW)).as("forgotten, so refused").isFalse();
    assertThat(w.accept(NOW + 99, NOW)).isFalse();
  }
}
