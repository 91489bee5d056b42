package dev.derphole.derp.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class HSalsa20Test {
  private static final HexFormat HEX = HexFormat.of();

  @Test
  void naclFirstKey() {
    byte[] out = HSalsa20.hash(HEX.parseHex(KnownKeys.SHARED), new byte[16]);
    assertThat(HEX.formatHex(out)).isEqualTo(KnownKeys.FIRSTKEY);
  }

  @Test
  void rejectsWrongLengths() {
    assertThatThrownBy(() -> HSalsa20.hash(new byte[31], new byte[16]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("32 bytes, got 31");
    assertThatThrownBy(() -> HSalsa20.hash(new byte[32], new byte[24]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("16 bytes, got 24");
  }
}
