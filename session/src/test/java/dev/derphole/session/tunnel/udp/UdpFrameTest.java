package dev.derphole.session.tunnel.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class UdpFrameTest {
  @Test
  void goldenDataFrame() {
    ByteBuf frame = UdpFrame.encode(ByteBufAllocator.DEFAULT, 0x01020304, Unpooled.wrappedBuffer(new byte[] {'h', 'i'}));
    try {
      assertThat(ByteBufUtil.hexDump(frame)).isEqualTo(
          "00"          // kind: DATA
          + "01020304"  // flow id, big-endian
          + "6869");    // payload "hi"
      assertThat(UdpFrame.flow(frame)).isEqualTo(0x01020304L);
      assertThat(ByteBufUtil.getBytes(UdpFrame.payload(frame))).containsExactly('h', 'i');
    } finally {
      frame.release();
    }
  }

  @Test
  void flowIdsUseAllThirtyTwoBits() {
    ByteBuf frame = Unpooled.wrappedBuffer(HexFormat.of().parseHex("00ffffffff"));
    assertThat(UdpFrame.flow(frame)).isEqualTo(0xffffffffL);
    assertThat(UdpFrame.payload(frame).readableBytes()).isZero();
  }

  @Test
  void malformedFramesAreRefused() {
    assertThat(UdpFrame.flow(Unpooled.wrappedBuffer(HexFormat.of().parseHex("00010203")))).as("short").isEqualTo(-1);
    assertThat(UdpFrame.flow(Unpooled.wrappedBuffer(HexFormat.of().parseHex("0100000001aa")))).as("kind 1").isEqualTo(-1);
    assertThat(UdpFrame.flow(Unpooled.EMPTY_BUFFER)).as("empty").isEqualTo(-1);
    ByteBuf over = Unpooled.buffer().writeByte(0).writeInt(7).writeZero(UdpFrame.MAX_PAYLOAD + 1);
    assertThat(UdpFrame.flow(over)).as("payload over the limit").isEqualTo(-1);
    ByteBuf largest = Unpooled.buffer().writeByte(0).writeInt(7).writeZero(UdpFrame.MAX_PAYLOAD);
    assertThat(UdpFrame.flow(largest)).as("the largest payload").isEqualTo(7);
  }

  @Test
  void encodingRefusesAPayloadOverTheLimit() {
    assertThatThrownBy(() -> UdpFrame.encode(ByteBufAllocator.DEFAULT, 1, Unpooled.buffer().writeZero(UdpFrame.MAX_PAYLOAD + 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16001-byte payload");
  }

  @Property(tries = 200)
  void roundTrip(@ForAll int flow, @ForAll @Size(max = 2000) byte[] payload) {
    ByteBuf frame = UdpFrame.encode(ByteBufAllocator.DEFAULT, flow, Unpooled.wrappedBuffer(payload));
    try {
      assertThat(frame.readableBytes()).isEqualTo(UdpFrame.HEADER + payload.length);
      assertThat(UdpFrame.flow(frame)).isEqualTo(Integer.toUnsignedLong(flow));
      assertThat(ByteBufUtil.getBytes(UdpFrame.payload(frame))).isEqualTo(payload);
    } finally {
      frame.release();
    }
  }
}
