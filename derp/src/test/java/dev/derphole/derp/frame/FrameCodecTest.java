package dev.derphole.derp.frame;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.derp.key.BoxException;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * The DERP frame codec against Tailscale's own vectors (derp-protocol.md §8 A), the libsodium-made
 * handshake frames (§8 C), hostile byte streams through a {@link FrameDecoder} in an
 * {@link EmbeddedChannel}, and property-based round trips.
 */
class FrameCodecTest {
  private static final HexFormat HEX = HexFormat.of();

  // RFC 7748 §6.1 keys: alice is the client, bob the server (§8 C).
  private static final NodePrivateKey ALICE =
      NodePrivateKey.fromRaw(HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  private static final NodePrivateKey BOB =
      NodePrivateKey.fromRaw(HEX.parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));

  /** Generous: only the frame rules, not the size limit, are under test unless a test says otherwise. */
  private static final int LIMIT = DerpProtocol.MAX_CLIENT_FRAME_LENGTH;

  // ---------------------------------------------------------------- Tailscale vectors (§8 A)

  @Test
  void headersMatchTailscaleVectors() {
    // derp_test.go: SendPacket with a 1024-byte payload (32-byte key + 992-byte packet).
    Frame send = new Frame.SendPacket(key(1), Unpooled.wrappedBuffer(new byte[1024 - 32]));
    try {
      assertThat(hex(send).substring(0, 10)).isEqualTo("0400000400");
      assertThat(send.encodedLength()).isEqualTo(5 + 1024);
    } finally {
      ((Frame.PacketFrame) send).release();
    }
    // KeepAlive with an empty payload.
    assertThat(hex(Frame.KeepAlive.INSTANCE)).isEqualTo("0600000000");
  }

  @Test
  void clientReceivesTailscaleVectors() {
    // client_test.go: what the Go client parses from these bytes.
    byte[] oneToEight = HEX.parseHex("0102030405060708");
    assertThat(decodeOne("12" + "00000008" + "0102030405060708")).isEqualTo(new Frame.Ping(oneToEight));
    assertThat(decodeOne("13" + "00000008" + "0102030405060708")).isEqualTo(new Frame.Pong(oneToEight));
    assertThat(decodeOne("14" + "00000003" + "424144")).isEqualTo(new Frame.Health("BAD"));
    assertThat(decodeOne("14" + "00000000")).isEqualTo(new Frame.Health(""));
    assertThat(decodeOne("15" + "00000008" + "00000001" + "00000002")).isEqualTo(new Frame.Restarting(1, 2));
  }

  @Test
  void pingEncodesLikeTailscale() {
    Frame ping = new Frame.Ping(HEX.parseHex("0102030405060708"));
    assertThat(hex(ping)).isEqualTo("12" + "00000008" + "0102030405060708");
    assertThat(hexThroughEncoder(ping)).isEqualTo("12" + "00000008" + "0102030405060708");
  }

  // ------------------------------------------------------------ handshake frames (§8 C)

  private static final String SERVER_KEY_FRAME = "0100000028" // ServerKey, 40 bytes
      + "44455250f09f9491" // magic "DERP🔑"
      + "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"; // bob's public key

  private static final String CLIENT_INFO_FRAME = "0200000069" // ClientInfo, 105 bytes
      + "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a" // alice's public key
      + "000102030405060708090a0b0c0d0e0f1011121314151617" // nonce N1
      + "39a83465456b7b50331fde35dd22274b7e6c26c069053c122ea5a24c8fa8fbbf" // tag(16) + box of
      + "8f83ba8b258ec2ea09f11d5c27469d7977"; //                          {"version":2,"CanAckPings":false}

  private static final String SERVER_INFO_FRAME = "0300000035" // ServerInfo, 53 bytes
      + "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8" // nonce N2
      + "c2ee0759a8f947da6ca0ce3c931045f2d439a05b8091aac44848dfce78"; // tag(16) + box of {"version":2}

  @Test
  void serverKeyFrameFromBob() {
    Frame frame = decodeOne(SERVER_KEY_FRAME);
    assertThat(frame).isEqualTo(new Frame.ServerKey(BOB.publicKey()));
    assertThat(hex(frame)).isEqualTo(SERVER_KEY_FRAME);
    assertThat(hexThroughEncoder(frame)).isEqualTo(SERVER_KEY_FRAME);
  }

  @Test
  void clientInfoFrameFromAliceOpensWithBobsKey() throws BoxException {
    Frame.ClientInfo info = (Frame.ClientInfo) decodeOne(CLIENT_INFO_FRAME);
    assertThat(info.clientKey()).isEqualTo(ALICE.publicKey());
    assertThat(HEX.formatHex(info.nonceAndBox())).isEqualTo(CLIENT_INFO_FRAME.substring(10 + 64));

    byte[] json = BOB.open(info.clientKey(), info.nonceAndBox());
    assertThat(utf8(json)).isEqualTo("{\"version\":2,\"CanAckPings\":false}");
    assertThat(ClientInfoMessage.parse(json)).isEqualTo(new ClientInfoMessage("", 2, false, false, ""));
    assertThat(new ClientInfoMessage("", 2, false, false, "").toJson()).isEqualTo(json);
    assertThat(hex(info)).isEqualTo(CLIENT_INFO_FRAME);
  }

  @Test
  void serverInfoFrameFromBobOpensWithAlicesKey() throws BoxException {
    Frame.ServerInfo info = (Frame.ServerInfo) decodeOne(SERVER_INFO_FRAME);
    byte[] json = ALICE.open(BOB.publicKey(), info.nonceAndBox());
    assertThat(utf8(json)).isEqualTo("{\"version\":2}");
    assertThat(ServerInfoMessage.parse(json)).isEqualTo(ServerInfoMessage.standard());
    assertThat(hex(info)).isEqualTo(SERVER_INFO_FRAME);
  }

  // ------------------------------------------------------------------- JSON bodies

  private static final String MESH_KEY = "6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8";

  @Test
  void clientInfoJsonIsReadCaseInsensitively() {
    // derp_test.go TestClientInfoUnmarshal: Go field names, then the lowercase wire names.
    ClientInfoMessage want = new ClientInfoMessage(MESH_KEY, 5, false, false, "");
    assertThat(ClientInfoMessage.parse(utf8("{\"Version\":5,\"MeshKey\":\"" + MESH_KEY + "\"}"))).isEqualTo(want);
    assertThat(ClientInfoMessage.parse(utf8("{\"version\":5,\"meshKey\":\"" + MESH_KEY + "\"}"))).isEqualTo(want);
  }

  @Test
  void clientInfoIgnoresUnknownFields() {
    assertThat(ClientInfoMessage.parse(utf8("{\"version\":2,\"CanAckPings\":true,\"Future\":[1,2]}")))
        .isEqualTo(ClientInfoMessage.standard());
  }

  @Test
  void clientInfoRejectsMeshKeysThatAreNot64Hex() {
    assertThatThrownBy(() -> ClientInfoMessage.parse(utf8("{\"Version\":5,\"MeshKey\":\"abcdefg\"}")))
        .isInstanceOf(FrameException.class);
    assertThatThrownBy(() -> ClientInfoMessage.parse(utf8("{\"Version\":5,\"MeshKey\":\"" + MESH_KEY + "abcd\"}")))
        .isInstanceOf(FrameException.class);
  }

  @Test
  void clientInfoRejectsWhatIsNotAJsonObject() {
    assertThatThrownBy(() -> ClientInfoMessage.parse(utf8("not json"))).isInstanceOf(FrameException.class);
    assertThatThrownBy(() -> ClientInfoMessage.parse(utf8("[2]"))).isInstanceOf(FrameException.class);
    assertThatThrownBy(() -> ClientInfoMessage.parse(utf8("{\"version\":\"2\"}"))).isInstanceOf(FrameException.class);
  }

  @Test
  void standardBodiesAreWhatTailscaleSends() {
    assertThat(utf8(ClientInfoMessage.standard().toJson())).isEqualTo("{\"version\":2,\"CanAckPings\":true}");
    assertThat(utf8(ServerInfoMessage.standard().toJson())).isEqualTo("{\"version\":2}");
  }

  // ------------------------------------------------------------- FrameDecoder streams

  @Test
  void framesSplitIntoSingleBytesStillDecode() {
    byte[] stream = HEX.parseHex(SERVER_KEY_FRAME + SERVER_INFO_FRAME + "0600000000" + "1200000008" + "0102030405060708");
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(LIMIT));
    for (byte b : stream) {
      ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
    }
    List<Frame> frames = readAll(ch);
    assertThat(frames).extracting(Frame::type)
        .containsExactly(FrameType.SERVER_KEY, FrameType.SERVER_INFO, FrameType.KEEP_ALIVE, FrameType.PING);
    assertThat(frames.get(0)).isEqualTo(new Frame.ServerKey(BOB.publicKey()));
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void severalFramesInOneBufferAllDecode() {
    List<Frame> frames = decodeAll(SERVER_KEY_FRAME + "0600000000" + "1400000003424144" + "1500000008" + "0000000100000002");
    assertThat(frames).containsExactly(
        new Frame.ServerKey(BOB.publicKey()), Frame.KeepAlive.INSTANCE, new Frame.Health("BAD"), new Frame.Restarting(1, 2));
  }

  @Test
  void unknownTypeIsSkippedAndTheNextFrameDecodes() {
    // 0x0b is unused: both sides read its length and drop the payload.
    List<Frame> frames = decodeAll("0b00000004" + "deadbeef" + "1300000008" + "0102030405060708");
    assertThat(frames).containsExactly(
        new Frame.Unknown(0x0b, 4), new Frame.Pong(HEX.parseHex("0102030405060708")));
  }

  @Test
  void peerGoneWithoutReasonMeansDisconnected() {
    // Old servers sent only the key.
    Frame frame = decodeOne("0800000020" + hex32(7));
    assertThat(frame).isEqualTo(new Frame.PeerGone(key(7), PeerGoneReason.DISCONNECTED));
    assertThat(decodeOne("0800000021" + hex32(7) + "01")).isEqualTo(new Frame.PeerGone(key(7), PeerGoneReason.NOT_HERE));
  }

  @Test
  void peerPresentTakesWhateverFieldsArePresent() throws Exception {
    String ip = "00000000000000000000ffff01020304"; // 1.2.3.4, v4-mapped
    String port = "162e"; // 5678
    InetSocketAddress endpoint = new InetSocketAddress(InetAddress.getByAddress(new byte[] {1, 2, 3, 4}), 5678);

    assertThat(decodeOne("0900000020" + hex32(9)))
        .isEqualTo(new Frame.PeerPresent(key(9), Optional.empty(), 0));
    assertThat(decodeOne("0900000032" + hex32(9) + ip + port))
        .isEqualTo(new Frame.PeerPresent(key(9), Optional.of(endpoint), 0));
    assertThat(decodeOne("0900000033" + hex32(9) + ip + port + "05"))
        .isEqualTo(new Frame.PeerPresent(key(9), Optional.of(endpoint), Frame.PeerPresent.FLAG_REGULAR | Frame.PeerPresent.FLAG_PROBER));
  }

  @Test
  void headerOverTheLimitFailsBeforeItsPayloadArrives() {
    // Only the 5 header bytes are written: the decoder must not wait for (or buffer) the payload.
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
    assertThatThrownBy(() -> ch.writeInbound(buf("0400000401")))
        .isInstanceOf(DecoderException.class)
        .hasRootCauseInstanceOf(FrameException.class)
        .hasMessageContaining("1025 bytes exceeds the limit of 1024");
    closeAfterRefusal(ch);
  }

  @Test
  void clientRefusesTheLargestHeaderTailscaleTestsWith() {
    // derp_test.go's RecvPacket header with length 0xffffffff.
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(DerpProtocol.MAX_CLIENT_FRAME_LENGTH));
    assertThatThrownBy(() -> ch.writeInbound(buf("05ffffffff")))
        .hasRootCauseInstanceOf(FrameException.class)
        .hasMessageContaining("4294967295 bytes exceeds");
    closeAfterRefusal(ch);
  }

  @Test
  void sendPacketOverMaxPacketSizeFails() {
    int payload = 32 + DerpProtocol.MAX_PACKET_SIZE + 1;
    ByteBuf in = Unpooled.buffer(5 + payload);
    in.writeByte(FrameType.SEND_PACKET.code()).writeInt(payload).writeZero(payload);
    assertRejected(in, "65537 bytes");
  }

  @Test
  void notePreferredMustBeOneByte() {
    assertRejected(buf("07000000020100"), "NOTE_PREFERRED frame of 2 bytes");
  }

  @Test
  void pingMustBe8To1000Bytes() {
    assertRejected(buf("1200000007" + "01020304050607"), "PING frame of 7 bytes");
    ByteBuf big = Unpooled.buffer();
    big.writeByte(FrameType.PING.code()).writeInt(1001).writeZero(1001);
    assertRejected(big, "PING frame of 1001 bytes");
    // The bounds themselves are fine, and only the first 8 bytes are kept.
    ByteBuf max = Unpooled.buffer();
    max.writeByte(FrameType.PING.code()).writeInt(1000).writeLong(0x0102030405060708L).writeZero(992);
    assertThat(decodeAll(max)).containsExactly(new Frame.Ping(HEX.parseHex("0102030405060708")));
  }

  @Test
  void serverKeyWithWrongMagicFails() {
    String wrongMagic = SERVER_KEY_FRAME.replace("44455250f09f9491", "44455250f09f9490");
    assertRejected(buf(wrongMagic), "wrong magic");
  }

  @Test
  void shortFramesOfFixedLayoutFail() {
    assertRejected(buf("0400000010" + "00".repeat(16)), "shorter than 32");   // SendPacket without a full key
    assertRejected(buf("0800000010" + "00".repeat(16)), "shorter than 32");   // PeerGone
    assertRejected(buf("0100000020" + hex32(1)), "shorter than 40");          // ServerKey without magic
    assertRejected(buf("1000000001" + "00"), "want exactly 0");              // WatchConns with a payload
  }

  // ------------------------------------------------------------- reference counting

  @Test
  void decodedPacketFramesReleaseTheirBuffers() {
    List<ByteBuf> inputs = new ArrayList<>();
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(LIMIT));
    byte[] stream = HEX.parseHex(
        "0400000024" + hex32(2) + "cafebabe"   // SendPacket to key 2, 4-byte packet
        + "0500000022" + hex32(3) + "abcd");   // RecvPacket from key 3, 2-byte packet
    // Split mid-frame so the decoder has to accumulate.
    for (int i = 0; i < stream.length; i += 7) {
      ByteBuf chunk = Unpooled.buffer(7);
      chunk.writeBytes(stream, i, Math.min(7, stream.length - i));
      inputs.add(chunk);
      ch.writeInbound(chunk);
    }
    List<Frame> frames = readAll(ch);
    assertThat(ch.finish()).isFalse();
    assertThat(frames).hasSize(2);

    Frame.SendPacket send = (Frame.SendPacket) frames.get(0);
    Frame.RecvPacket recv = (Frame.RecvPacket) frames.get(1);
    assertThat(send.destination()).isEqualTo(key(2));
    assertThat(ByteBufUtil.hexDump(send.packet())).isEqualTo("cafebabe");
    assertThat(recv.source()).isEqualTo(key(3));
    assertThat(ByteBufUtil.hexDump(recv.packet())).isEqualTo("abcd");

    // Netty may give the two slices one shared count or one each; either way both must reach zero.
    send.release();
    recv.release();
    assertThat(send.refCnt()).isZero();
    assertThat(recv.refCnt()).isZero();
    assertThat(inputs).allSatisfy(b -> assertThat(b.refCnt()).isZero());
  }

  @Test
  void encoderReleasesThePacketItForwards() {
    ByteBuf packet = Unpooled.copiedBuffer(new byte[] {1, 2, 3});
    EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
    assertThat(ch.writeOutbound(new Frame.RecvPacket(key(4), packet))).isTrue();
    ByteBuf written = Unpooled.buffer();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      written.writeBytes(b);
      b.release();
    }
    assertThat(ByteBufUtil.hexDump(written)).isEqualTo("0500000023" + hex32(4) + "010203");
    assertThat(packet.refCnt()).isZero();
    assertThat(ch.finish()).isFalse();
  }

  // --------------------------------------------------------------- round trips

  @Test
  void theEncoderOwnsAPacketWhetherItCopiesItOrNot() {
    for (int size : new int[] {1200, FrameEncoder.COPY_UP_TO, FrameEncoder.COPY_UP_TO + 1, 16384}) {
      ByteBuf packet = Unpooled.directBuffer(size).writeZero(size);
      EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
      ch.writeOutbound(new Frame.SendPacket(key(1), packet));
      int bytes = 0;
      for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
        bytes += b.readableBytes();
        b.release();
      }
      assertThat(ch.finish()).isFalse();
      assertThat(bytes).as("frame of a %d-byte packet", size).isEqualTo(5 + 32 + size);
      assertThat(packet.refCnt()).as("packet of %d bytes released once written", size).isZero();
    }
  }

  @Property(tries = 200)
  void sendPacketRoundTrips(@ForAll("keys") NodePublicKey dst, @ForAll("packets") byte[] packet) {
    assertRoundTrip(new Frame.SendPacket(dst, Unpooled.wrappedBuffer(packet)));
  }

  @Property(tries = 200)
  void recvPacketRoundTrips(@ForAll("keys") NodePublicKey src, @ForAll("packets") byte[] packet) {
    assertRoundTrip(new Frame.RecvPacket(src, Unpooled.wrappedBuffer(packet)));
  }

  @Property(tries = 100)
  void forwardPacketRoundTrips(@ForAll("keys") NodePublicKey src, @ForAll("keys") NodePublicKey dst,
                               @ForAll("packets") byte[] packet) {
    assertRoundTrip(new Frame.ForwardPacket(src, dst, Unpooled.wrappedBuffer(packet)));
  }

  @Property
  void peerGoneRoundTrips(@ForAll("keys") NodePublicKey peer, @ForAll boolean notHere) {
    assertRoundTrip(new Frame.PeerGone(peer, notHere ? PeerGoneReason.NOT_HERE : PeerGoneReason.DISCONNECTED));
  }

  @Property
  void pingAndPongRoundTrip(@ForAll("eightBytes") byte[] data) {
    assertRoundTrip(new Frame.Ping(data));
    assertRoundTrip(new Frame.Pong(data));
  }

  @Property
  void healthRoundTrips(@ForAll("text") String problem) {
    assertRoundTrip(new Frame.Health(problem));
  }

  @Property
  void restartingRoundTrips(@ForAll @LongRange(min = 0, max = 0xffffffffL) long reconnectIn,
                            @ForAll @LongRange(min = 0, max = 0xffffffffL) long tryFor) {
    assertRoundTrip(new Frame.Restarting(reconnectIn, tryFor));
  }

  @Property
  void clientInfoAndServerInfoRoundTrip(@ForAll("keys") NodePublicKey client, @ForAll("boxes") byte[] nonceAndBox) {
    Frame.ClientInfo info = (Frame.ClientInfo) roundTrip(new Frame.ClientInfo(client, nonceAndBox));
    assertThat(info.clientKey()).isEqualTo(client);
    assertThat(info.nonceAndBox()).isEqualTo(nonceAndBox);
    assertThat(((Frame.ServerInfo) roundTrip(new Frame.ServerInfo(nonceAndBox))).nonceAndBox()).isEqualTo(nonceAndBox);
  }

  @Property
  void smallFramesRoundTrip(@ForAll("keys") NodePublicKey peer, @ForAll boolean preferred, @ForAll int flags) {
    assertRoundTrip(new Frame.NotePreferred(preferred));
    assertRoundTrip(new Frame.ClosePeer(peer));
    assertRoundTrip(Frame.KeepAlive.INSTANCE);
    assertRoundTrip(Frame.WatchConns.INSTANCE);
    assertRoundTrip(new Frame.PeerPresent(peer, Optional.of(new InetSocketAddress("10.1.2.3", 41641)), flags & 0xff));
    assertRoundTrip(new Frame.PeerPresent(peer, Optional.of(new InetSocketAddress("fd7a:115c:a1e0::1", 3478)), flags & 0xff));
  }

  @Provide
  Arbitrary<NodePublicKey> keys() {
    return Arbitraries.bytes().array(byte[].class).ofSize(32).map(NodePublicKey::fromRaw);
  }

  /** 0..65536 bytes: a size and a seed, so shrinking stays cheap even for the largest packets. */
  @Provide
  Arbitrary<byte[]> packets() {
    Arbitrary<Integer> sizes = Arbitraries.oneOf(
        Arbitraries.integers().between(0, DerpProtocol.MAX_PACKET_SIZE),
        Arbitraries.of(0, 1, FrameEncoder.COPY_UP_TO, FrameEncoder.COPY_UP_TO + 1,
            DerpProtocol.MAX_PACKET_SIZE - 1, DerpProtocol.MAX_PACKET_SIZE));
    return Combinators.combine(sizes, Arbitraries.longs()).as((size, seed) -> {
      byte[] b = new byte[size];
      new Random(seed).nextBytes(b);
      return b;
    });
  }

  @Provide
  Arbitrary<byte[]> eightBytes() {
    return Arbitraries.bytes().array(byte[].class).ofSize(8);
  }

  @Provide
  Arbitrary<byte[]> boxes() {
    return Arbitraries.bytes().array(byte[].class).ofMinSize(24 + 16).ofMaxSize(600);
  }

  /** Any Unicode text, supplementary planes included; lone surrogates are not text and have no UTF-8 form. */
  @Provide
  Arbitrary<String> text() {
    return Arbitraries.integers().between(0, Character.MAX_CODE_POINT)
        .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE)
        .list().ofMaxSize(100)
        .map(cps -> {
          StringBuilder sb = new StringBuilder();
          cps.forEach(sb::appendCodePoint);
          return sb.toString();
        });
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Encodes {@code frame} both ways (Frame.encode and the pipeline's FrameEncoder), checks the
   * bytes agree with encodedLength, decodes them, and checks the result equals {@code frame}.
   * Consumes {@code frame} if it holds a packet.
   */
  private static void assertRoundTrip(Frame frame) {
    Frame back = roundTrip(frame);
    try {
      assertThat(back).isEqualTo(frame);
    } finally {
      release(back);
      release(frame);
    }
  }

  private static Frame roundTrip(Frame frame) {
    ByteBuf direct = Unpooled.buffer();
    frame.encode(direct);
    assertThat(direct.readableBytes()).isEqualTo(frame.encodedLength());
    assertThat(direct.getUnsignedByte(0)).isEqualTo((short) frame.type().code());
    assertThat(direct.getUnsignedInt(1)).isEqualTo(frame.payloadLength());
    if (frame instanceof Frame.PacketFrame p) {
      p.retain(); // the encoder releases what it writes
    }
    assertThat(hexThroughEncoder(frame)).isEqualTo(ByteBufUtil.hexDump(direct));
    List<Frame> decoded = decodeAll(direct);
    assertThat(decoded).hasSize(1);
    return decoded.get(0);
  }

  private static void release(Frame f) {
    if (f instanceof Frame.PacketFrame p && p.refCnt() > 0) {
      p.release();
    }
  }

  /** Frame.encode alone, as hex. */
  private static String hex(Frame frame) {
    ByteBuf out = Unpooled.buffer(frame.encodedLength());
    frame.encode(out);
    assertThat(out.readableBytes()).isEqualTo(frame.encodedLength());
    return ByteBufUtil.hexDump(out);
  }

  /** What FrameEncoder puts on the wire, as hex; the frame is consumed. */
  private static String hexThroughEncoder(Frame frame) {
    EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
    ch.writeOutbound(frame);
    ByteBuf all = Unpooled.buffer();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      all.writeBytes(b, b.readerIndex(), b.readableBytes()); // b may be the frame's own packet: leave it intact
      b.release();
    }
    assertThat(ch.finish()).isFalse();
    return ByteBufUtil.hexDump(all);
  }

  private static Frame decodeOne(String hex) {
    List<Frame> frames = decodeAll(hex);
    assertThat(frames).hasSize(1);
    return frames.get(0);
  }

  private static List<Frame> decodeAll(String hex) {
    return decodeAll(buf(hex));
  }

  private static List<Frame> decodeAll(ByteBuf in) {
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(LIMIT));
    ch.writeInbound(in);
    List<Frame> frames = readAll(ch);
    assertThat(ch.finish()).isFalse();
    return frames;
  }

  private static List<Frame> readAll(EmbeddedChannel ch) {
    List<Frame> out = new ArrayList<>();
    for (Frame f; (f = ch.readInbound()) != null; ) {
      out.add(f);
    }
    return out;
  }

  /** The decoder refuses {@code in} with a FrameException naming the problem, emits nothing and leaks nothing. */
  private static void assertRejected(ByteBuf in, String messagePart) {
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(LIMIT));
    assertThatThrownBy(() -> ch.writeInbound(in))
        .isInstanceOf(DecoderException.class)
        .hasRootCauseInstanceOf(FrameException.class)
        .hasMessageContaining(messagePart);
    assertThat(readAll(ch)).isEmpty();
    closeAfterRefusal(ch);
    assertThat(in.refCnt()).isZero();
  }

  /**
   * Closes a channel whose decoder refused its input. An over-limit header stays buffered, so the
   * decoder raises the same refusal again on close; the handlers behind it have closed by then and
   * ignore it. Nothing may be left to read either way.
   */
  private static void closeAfterRefusal(EmbeddedChannel ch) {
    try {
      assertThat(ch.finishAndReleaseAll()).isFalse();
    } catch (DecoderException again) {
      assertThat(again).hasRootCauseInstanceOf(FrameException.class);
    }
  }

  private static ByteBuf buf(String hex) {
    return Unpooled.wrappedBuffer(HEX.parseHex(hex));
  }

  /** A distinct, recognisable key: 32 bytes of {@code b}. */
  private static NodePublicKey key(int b) {
    return NodePublicKey.fromRaw(HEX.parseHex(hex32(b)));
  }

  private static String hex32(int b) {
    return String.format("%02x", b).repeat(32);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
