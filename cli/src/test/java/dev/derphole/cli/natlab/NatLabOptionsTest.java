package dev.derphole.cli.natlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.cli.natlab.NatLab.Options;
import dev.derphole.cli.natlab.NatLab.Site;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What {@link Options} asks of lab.sh up, without a lab. */
class NatLabOptionsTest {
  @Test
  void delayAndLossTogetherBecomeLabShArguments() {
    Options options = Options.NONE.withUpnp(Site.B).withDelay(Duration.ofMillis(50)).withLoss("2");

    assertThat(options.arguments()).containsExactly("--upnp", "B", "--delay", "50", "--loss", "2");
  }

  @Test
  void noOptionsNoArguments() {
    assertThat(Options.NONE.arguments()).isEqualTo(List.of());
  }

  /** lab.sh takes whole milliseconds from 1 to 9999; anything else is refused before a lab is made. */
  @ParameterizedTest
  @ValueSource(strings = {"PT0S", "PT-0.05S", "PT0.0005S", "PT0.0505S", "PT10S"})
  void aDelayLabShCannotTakeIsRefusedNamingIt(String text) {
    Duration delay = Duration.parse(text);

    assertThatThrownBy(() -> Options.NONE.withDelay(delay))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("delay must be whole milliseconds from 1 to 9999, got " + delay);
  }

  @Test
  void theLongestDelayLabShTakes() {
    assertThat(Options.NONE.withDelay(Duration.ofMillis(9999)).arguments())
        .containsExactly("--delay", "9999");
  }
}
