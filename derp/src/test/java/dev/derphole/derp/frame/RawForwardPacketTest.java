package dev.derphole.derp.frame;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * A relay's decoder: a mesh peer's ForwardPacket frames come out whole and turn into RecvPacket
 * frames in place; and a client's SendPacket becomes the ForwardPacket a peer expects.
 */
class RawForwardPacketTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final NodePublicKey ALICE = NodePublicKey.parseUntyped("a1".repeat(32));
  private static final NodePublicKey BOB = NodePublicKey.parseUntyped("b0".repeat(32));

  @Test
  void aForwardPacketBecomesTheRecvPacketTheEncoderWouldWrite() {
    //                       type len          src (alice)     dst (bob)       packet "hi!"
    ByteBuf in = Unpooled.wrappedBuffer(HEX.parseHex("0a" + "00000043" + "a1".repeat(32) + "b0".repeat(32) + "686921"));
    RawForwardPacket p = decodeOne(in);
    assertThat(p.packetLength()).isEqualTo(3);
    assertThat(p.source()).isEqualTo(ALICE);
    assertThat(p.destination()).isEqualTo(BOB);
    assertThat(p.sourceIs(ALICE.raw())).isTrue();
    assertThat(p.sourceIs(BOB.raw())).isFalse();
    assertThat(recvHex(p)).isEqualTo("05" + "00000023" + "a1".repeat(32) + "686921")
        .isEqualTo(encoded(new Frame.RecvPacket(ALICE, Unpooled.wrappedBuffer(HEX.parseHex("686921")))));
  }

  @Test
  void aReadOnlyBufferIsCopiedRatherThanWrittenTo() {
    ByteBuf readOnly = Unpooled.wrappedBuffer(HEX.parseHex("0a" + "00000041" + "a1".repeat(32) + "b0".repeat(32) + "ff")).asReadOnly();
    assertThat(recvHex(decodeOne(readOnly))).isEqualTo("05" + "00000021" + "a1".repeat(32) + "ff");
  }

  /** Frames whose header, keys and packet lie in different reads still come out whole and byte-exact. */
  @Test
  void framesSplitAcrossReadsAtEveryPointAreDeliveredByteExact() {
    String first = "0a" + "00000045" + "a1".repeat(32) + "b0".repeat(32) + "0102030405";
    String second = "0a" + "00000042" + "b0".repeat(32) + "a1".repeat(32) + "aabb";
    byte[] stream = HEX.parseHex(first + second);
    for (int cut = 1; cut < stream.length; cut++) {
      EmbeddedChannel ch = new EmbeddedChannel(FrameDecoder.forRelay(1024));
      ch.writeInbound(Unpooled.copiedBuffer(stream, 0, cut));
      ch.writeInbound(Unpooled.copiedBuffer(stream, cut, stream.length - cut));
      assertThat(recvHex(ch.readInbound())).as("cut at %d", cut).isEqualTo("05" + "00000025" + "a1".repeat(32) + "0102030405");
      assertThat(recvHex(ch.readInbound())).as("cut at %d", cut).isEqualTo("05" + "00000022" + "b0".repeat(32) + "aabb");
      assertThat(ch.finish()).isFalse();
    }
  }

  @Test
  void aSendPacketBecomesTheForwardPacketTheEncoderWouldWrite() {
    EmbeddedChannel ch = new EmbeddedChannel(FrameDecoder.forRelay(1024));
    ch.writeInbound(Unpooled.wrappedBuffer(HEX.parseHex("04" + "00000023" + "b0".repeat(32) + "686921")));
    RawSendPacket p = ch.readInbound();
    assertThat(p.forwardPacketLength()).isEqualTo(5 + 64 + 3);
    ByteBuf out = Unpooled.buffer();
    try {
      p.writeForwardPacketTo(ALICE.raw(), out);
      assertThat(ByteBufUtil.hexDump(out))
          .isEqualTo(encoded(new Frame.ForwardPacket(ALICE, BOB, Unpooled.wrappedBuffer(HEX.parseHex("686921")))));
    } finally {
      out.release();
    }
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void theLengthRulesOfForwardPacketStillHold() {
    EmbeddedChannel shortOne = new EmbeddedChannel(FrameDecoder.forRelay(1024));
    assertThatThrownBy(() -> shortOne.writeInbound(Unpooled.wrappedBuffer(HEX.parseHex("0a0000003f" + "00".repeat(63)))))
        .isInstanceOf(DecoderException.class)
        .hasMessageContaining("shorter than 64");
    try {
      shortOne.finishAndReleaseAll();
    } catch (DecoderException again) {
      assertThat(again).hasRootCauseInstanceOf(FrameException.class);
    }
  }

  private static RawForwardPacket decodeOne(ByteBuf in) {
    EmbeddedChannel ch = new EmbeddedChannel(FrameDecoder.forRelay(1024));
    ch.writeInbound(in);
    RawForwardPacket p = ch.readInbound();
    assertThat(ch.finish()).isFalse();
    return p;
  }

  private static String recvHex(RawForwardPacket p) {
    ByteBuf out = p.toRecvPacket();
    try {
      return ByteBufUtil.hexDump(out);
    } finally {
      out.release();
    }
  }

  private static String encoded(Frame f) {
    ByteBuf b = Unpooled.buffer();
    try {
      f.encode(b);
      return ByteBufUtil.hexDump(b);
    } finally {
      b.release();
      if (f instanceof Frame.PacketFrame p) {
        p.release();
      }
    }
  }
}
