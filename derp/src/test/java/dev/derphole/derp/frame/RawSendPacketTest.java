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

/** A relay's decoder: SendPacket frames come out whole and turn into RecvPacket frames in place. */
class RawSendPacketTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final NodePublicKey ALICE = key(0xa1);
  private static final NodePublicKey BOB = key(0xb0);

  @Test
  void aSendPacketBecomesTheRecvPacketTheEncoderWouldWrite() {
    //            type len        dst key (bob)   packet "hi!"
    String in = "04" + "00000023" + hex32(0xb0) + "686921";
    RawSendPacket p = decodeOne(in);
    assertThat(p.packetLength()).isEqualTo(3);
    assertThat(p.destination()).isEqualTo(BOB);
    assertThat(p.destinationIs(BOB.raw())).isTrue();
    assertThat(p.destinationIs(ALICE.raw())).isFalse();
    assertThat(ByteBufUtil.hexDump(p.packet())).isEqualTo("686921");

    ByteBuf out = p.toRecvPacket(ALICE.raw());
    try {
      //                                     type len        src key (alice)  packet
      assertThat(ByteBufUtil.hexDump(out)).isEqualTo("05" + "00000023" + hex32(0xa1) + "686921");
      assertThat(ByteBufUtil.hexDump(out)).isEqualTo(encoded(new Frame.RecvPacket(ALICE, Unpooled.wrappedBuffer(HEX.parseHex("686921")))));
    } finally {
      out.release();
    }
  }

  @Test
  void aReadOnlyBufferIsCopiedRatherThanWrittenTo() {
    ByteBuf readOnly = Unpooled.wrappedBuffer(HEX.parseHex("04" + "00000021" + hex32(0xb0) + "ff")).asReadOnly();
    EmbeddedChannel ch = new EmbeddedChannel(FrameDecoder.forRelay(1024));
    ch.writeInbound(readOnly);
    RawSendPacket p = ch.readInbound();
    ByteBuf out = p.toRecvPacket(ALICE.raw());
    try {
      assertThat(ByteBufUtil.hexDump(out)).isEqualTo("05" + "00000021" + hex32(0xa1) + "ff");
    } finally {
      out.release();
    }
    assertThat(ch.finish()).isFalse();
  }

  /**
   * Reads end anywhere in a frame, and the relay's decoder keeps them as separate pieces rather than
   * copying them together: a frame whose header, key and packet lie in different reads still comes
   * out whole and is rewritten across those pieces.
   */
  @Test
  void framesSplitAcrossReadsAtEveryPointAreForwardedByteExact() {
    String first = "04" + "00000025" + hex32(0xb0) + "0102030405";
    String second = "04" + "00000022" + hex32(0xb0) + "aabb";
    byte[] stream = HEX.parseHex(first + second);
    for (int cut1 = 1; cut1 < stream.length; cut1++) {
      for (int cut2 = cut1; cut2 < stream.length; cut2 += 7) {
        EmbeddedChannel ch = new EmbeddedChannel(FrameDecoder.forRelay(1024));
        ch.writeInbound(Unpooled.copiedBuffer(stream, 0, cut1));
        ch.writeInbound(Unpooled.copiedBuffer(stream, cut1, cut2 - cut1));
        ch.writeInbound(Unpooled.copiedBuffer(stream, cut2, stream.length - cut2));
        assertThat(recvHex(ch.readInbound())).as("cut at %d and %d", cut1, cut2)
            .isEqualTo("05" + "00000025" + hex32(0xa1) + "0102030405");
        assertThat(recvHex(ch.readInbound())).as("cut at %d and %d", cut1, cut2)
            .isEqualTo("05" + "00000022" + hex32(0xa1) + "aabb");
        assertThat(ch.finish()).isFalse();
      }
    }
  }

  private static String recvHex(RawSendPacket p) {
    ByteBuf out = p.toRecvPacket(ALICE.raw());
    try {
      return ByteBufUtil.hexDump(out);
    } finally {
      out.release();
    }
  }

  @Test
  void otherFramesStillDecodeAsFrames() {
    EmbeddedChannel ch = new EmbeddedChannel(FrameDecoder.forRelay(1024));
    ch.writeInbound(Unpooled.wrappedBuffer(HEX.parseHex("1200000008" + "0102030405060708")));
    assertThat((Object) ch.readInbound()).isEqualTo(new Frame.Ping(HEX.parseHex("0102030405060708")));
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void theLengthRulesOfSendPacketStillHold() {
    EmbeddedChannel shortOne = new EmbeddedChannel(FrameDecoder.forRelay(1024));
    assertThatThrownBy(() -> shortOne.writeInbound(Unpooled.wrappedBuffer(HEX.parseHex("040000001f" + "00".repeat(31)))))
        .isInstanceOf(DecoderException.class)
        .hasMessageContaining("shorter than 32");
    closeAfterRefusal(shortOne);

    int payload = 32 + DerpProtocol.MAX_PACKET_SIZE + 1;
    ByteBuf big = Unpooled.buffer(5 + payload).writeByte(FrameType.SEND_PACKET.code()).writeInt(payload).writeZero(payload);
    EmbeddedChannel bigOne = new EmbeddedChannel(FrameDecoder.forRelay(DerpProtocol.MAX_SERVER_FRAME_LENGTH));
    assertThatThrownBy(() -> bigOne.writeInbound(big))
        .isInstanceOf(DecoderException.class)
        .hasMessageContaining("over the limit of 65536");
    closeAfterRefusal(bigOne);
  }

  /** The refused bytes stay in the decoder, which refuses them again as the channel closes. */
  private static void closeAfterRefusal(EmbeddedChannel ch) {
    try {
      ch.finishAndReleaseAll();
    } catch (DecoderException again) {
      assertThat(again).hasRootCauseInstanceOf(FrameException.class);
    }
  }

  private static RawSendPacket decodeOne(String hex) {
    EmbeddedChannel ch = new EmbeddedChannel(FrameDecoder.forRelay(1024));
    ch.writeInbound(Unpooled.wrappedBuffer(HEX.parseHex(hex)));
    RawSendPacket p = ch.readInbound();
    assertThat(ch.finish()).isFalse();
    return p;
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

  private static NodePublicKey key(int fill) {
    return NodePublicKey.parseUntyped(hex32(fill));
  }

  private static String hex32(int fill) {
    return String.format("%02x", fill).repeat(32);
  }
}
