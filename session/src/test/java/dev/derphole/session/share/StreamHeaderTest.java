package dev.derphole.session.share;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** The forwarded-connection stream header: golden bytes, and what a reader does with others. */
class StreamHeaderTest {
  @Test
  void encodesToTheDocumentedFourBytes() {
    ByteBuf b = StreamHeader.encode(Unpooled.buffer());
    // 44 48 53 = "DHS" (magic), 01 = version
    assertThat(ByteBufUtil.hexDump(b)).isEqualTo("44485301");
    assertThat(b.readableBytes()).isEqualTo(StreamHeader.LENGTH);
  }

  @Test
  void decodeConsumesTheHeaderAndLeavesThePayload() {
    ByteBuf b = StreamHeader.encode(Unpooled.buffer()).writeBytes(new byte[] {'G', 'E', 'T'});
    assertThat(StreamHeader.decode(b)).isTrue();
    assertThat(b.toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("GET");
  }

  @Test
  void aPartialHeaderWaitsWithoutConsumingAnything() {
    ByteBuf b = Unpooled.wrappedBuffer(new byte[] {0x44, 0x48, 0x53});
    assertThat(StreamHeader.decode(b)).isFalse();
    assertThat(b.readableBytes()).isEqualTo(3);
  }

  @Test
  void anotherMagicIsRefusedByName() {
    ByteBuf b = Unpooled.wrappedBuffer("GET / HTTP/1.1\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    assertThatThrownBy(() -> StreamHeader.decode(b)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("not a forwarded-connection stream (starts with 474554)");
    assertThat(b.readerIndex()).isZero();
  }

  @Test
  void anotherVersionIsRefusedWithBothNumbers() {
    ByteBuf b = Unpooled.wrappedBuffer(new byte[] {0x44, 0x48, 0x53, 0x02});
    assertThatThrownBy(() -> StreamHeader.decode(b)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("forwarded-connection stream version 2; this derphole speaks 1");
  }
}
