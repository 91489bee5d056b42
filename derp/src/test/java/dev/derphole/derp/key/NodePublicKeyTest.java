package dev.derphole.derp.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class NodePublicKeyTest {
  private static final String HEX64 =
      "50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765";

  @Test
  void textFormsRoundTrip() {
    NodePublicKey key = NodePublicKey.parse("nodekey:" + HEX64);
    assertThat(key.toString()).isEqualTo("nodekey:" + HEX64);
    assertThat(key.untypedHex()).isEqualTo(HEX64);
    assertThat(key.shortString()).isEqualTo("[50d20]");
    assertThat(NodePublicKey.parseUntyped(HEX64)).isEqualTo(key);
    assertThat(NodePublicKey.fromRaw(key.raw())).isEqualTo(key).hasSameHashCodeAs(key);
  }

  @Test
  void acceptsUppercaseHexAndPrintsLowercase() {
    NodePublicKey key = NodePublicKey.parse("nodekey:" + HEX64.toUpperCase());
    assertThat(key.toString()).isEqualTo("nodekey:" + HEX64);
  }

  @Test
  void parseRejectsMissingPrefix() {
    assertThatThrownBy(() -> NodePublicKey.parse(HEX64))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "node public key must start with \"nodekey:\" followed by 64 hex digits, got \""
                + HEX64
                + "\"");
    assertThatThrownBy(() -> NodePublicKey.parse("discokey:" + HEX64))
        .hasMessageContaining("must start with \"nodekey:\"");
  }

  @Test
  void parseRejectsWrongLength() {
    assertThatThrownBy(() -> NodePublicKey.parse("nodekey:abcd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("node public key after \"nodekey:\" must be 64 hex digits, got 4 characters");
    assertThatThrownBy(() -> NodePublicKey.parseUntyped(HEX64 + "00"))
        .hasMessage("untyped node public key must be 64 hex digits, got 66 characters");
    assertThatThrownBy(() -> NodePublicKey.parseUntyped(""))
        .hasMessageContaining("got 0 characters");
  }

  @Test
  void parseRejectsNonHex() {
    String bad = HEX64.substring(0, 10) + "g" + HEX64.substring(11);
    assertThatThrownBy(() -> NodePublicKey.parse("nodekey:" + bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("node public key after \"nodekey:\" has a non-hex character \"g\" at index 10");
    // Character.digit would accept a full-width digit; the text form is ASCII only.
    String fullWidth = "\uff10" + HEX64.substring(1);
    assertThatThrownBy(() -> NodePublicKey.parseUntyped(fullWidth))
        .hasMessageContaining("non-hex character")
        .hasMessageContaining("at index 0");
  }

  @Test
  void longInputIsCutInTheMessage() {
    String text = "x".repeat(500);
    assertThatThrownBy(() -> NodePublicKey.parse(text))
        .message()
        .hasSizeLessThan(200)
        .endsWith("…\"");
  }

  @Test
  void fromRawRejectsWrongLengthNamingIt() {
    assertThatThrownBy(() -> NodePublicKey.fromRaw(new byte[31]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("node public key must be 32 bytes, got 31");
    assertThatThrownBy(() -> NodePublicKey.fromRaw(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void fromRawCopiesAndRawReturnsACopy() {
    byte[] raw = HexFormat.of().parseHex(HEX64);
    NodePublicKey key = NodePublicKey.fromRaw(raw);
    raw[0] = 0;
    key.raw()[1] = 0;
    assertThat(key.untypedHex()).isEqualTo(HEX64);
  }

  @Test
  void bufferReadLeavesIndexesAndWriteAppends() {
    NodePublicKey key = NodePublicKey.parseUntyped(HEX64);
    ByteBuf buf = Unpooled.buffer();
    try {
      buf.writeByte(0x04);
      key.writeTo(buf);
      assertThat(buf.writerIndex()).isEqualTo(33);

      assertThat(NodePublicKey.fromBuffer(buf, 1)).isEqualTo(key);
      assertThat(buf.readerIndex()).isZero();
      assertThat(buf.writerIndex()).isEqualTo(33);

    } finally {
      buf.release();
    }
  }

  @Test
  void bufferReadPastCapacityFails() {
    ByteBuf buf = Unpooled.wrappedBuffer(new byte[40]);
    try {
      assertThat(NodePublicKey.fromBuffer(buf, 8)).isEqualTo(NodePublicKey.fromRaw(new byte[32]));
      assertThatThrownBy(() -> NodePublicKey.fromBuffer(buf, 9))
          .isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> NodePublicKey.fromBuffer(buf, -1))
          .isInstanceOf(IndexOutOfBoundsException.class);
    } finally {
      buf.release();
    }
  }

  @Test
  void ordersUnsignedBytewise() {
    byte[] low = new byte[32];
    byte[] high = new byte[32];
    low[0] = 0x7f;
    high[0] = (byte) 0x80; // negative as a Java byte, but larger unsigned
    NodePublicKey a = NodePublicKey.fromRaw(low);
    NodePublicKey b = NodePublicKey.fromRaw(high);
    assertThat(a).isLessThan(b);
    assertThat(b).isGreaterThan(a);
    assertThat(a.compareTo(NodePublicKey.fromRaw(low))).isZero();

    byte[] lastByte = new byte[32];
    lastByte[31] = 1;
    assertThat(NodePublicKey.fromRaw(new byte[32])).isLessThan(NodePublicKey.fromRaw(lastByte));
  }

  @Test
  void equalityIsByValue() {
    NodePublicKey key = NodePublicKey.parseUntyped(HEX64);
    assertThat(key).isNotEqualTo(NodePublicKey.fromRaw(new byte[32]));
    assertThat(key).isNotEqualTo(HEX64);
  }
}
