package dev.derphole.derp.frame;

import static dev.derphole.derp.frame.DerpProtocol.HEADER_LENGTH;
import static dev.derphole.derp.frame.DerpProtocol.KEY_LENGTH;
import static dev.derphole.derp.frame.DerpProtocol.MAGIC;
import static dev.derphole.derp.frame.DerpProtocol.MAX_PACKET_SIZE;
import static dev.derphole.derp.frame.DerpProtocol.MAX_PING_LENGTH;
import static dev.derphole.derp.frame.DerpProtocol.MIN_CLIENT_INFO_LENGTH;
import static dev.derphole.derp.frame.DerpProtocol.MIN_PING_LENGTH;
import static dev.derphole.derp.frame.DerpProtocol.NONCE_LENGTH;

import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ReferenceCounted;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * One DERP frame. Every frame has a symmetric API: {@link #decode} from a payload, {@link #encode}
 * to bytes (header included) and {@link #encodedLength}.
 *
 * <p>Packet-carrying frames ({@link SendPacket}, {@link RecvPacket}, {@link ForwardPacket}) hold a
 * {@link ByteBuf} and are {@link ReferenceCounted}: whoever holds one releases it.
 */
public sealed interface Frame {

  FrameType type();

  /** Length of the payload, without the 5 header bytes. */
  int payloadLength();

  /** Writes the payload only. */
  void encodePayload(ByteBuf out);

  default int encodedLength() {
    return HEADER_LENGTH + payloadLength();
  }

  /** Writes header and payload. */
  default void encode(ByteBuf out) {
    out.writeByte(type().code());
    out.writeInt(payloadLength());
    encodePayload(out);
  }

  /**
   * Decodes one frame whose header said {@code typeCode}. {@code payload} holds exactly the payload
   * bytes; it stays owned by the caller, and packet frames take their own retained slice of it.
   * Each type parses itself, beside its encoder.
   *
   * @throws FrameException when the payload breaks the rules of its type
   */
  static Frame decode(int typeCode, ByteBuf payload) {
    FrameType type = FrameType.of(typeCode);
    if (type == null) {
      return new Unknown(typeCode & 0xff, payload.readableBytes());
    }
    return switch (type) {
      case SERVER_KEY -> ServerKey.parse(payload);
      case CLIENT_INFO -> ClientInfo.parse(payload);
      case SERVER_INFO -> ServerInfo.parse(payload);
      case SEND_PACKET -> SendPacket.parse(payload);
      case RECV_PACKET -> RecvPacket.parse(payload);
      case FORWARD_PACKET -> ForwardPacket.parse(payload);
      case KEEP_ALIVE -> KeepAlive.INSTANCE;
      case NOTE_PREFERRED -> NotePreferred.parse(payload);
      case PEER_GONE -> PeerGone.parse(payload);
      case PEER_PRESENT -> PeerPresent.parse(payload);
      case WATCH_CONNS -> WatchConns.parse(payload);
      case CLOSE_PEER -> ClosePeer.parse(payload);
      case PING -> Ping.parse(payload);
      case PONG -> Pong.parse(payload);
      case HEALTH -> Health.parse(payload);
      case RESTARTING -> Restarting.parse(payload);
    };
  }

  private static void atLeast(FrameType type, int len, int min) {
    if (len < min) {
      throw new FrameException(type + " frame of " + len + " bytes is shorter than " + min);
    }
  }

  private static void exactly(FrameType type, int len, int want) {
    if (len != want) {
      throw new FrameException(type + " frame of " + len + " bytes, want exactly " + want);
    }
  }

  private static void between(FrameType type, int len, int min, int max) {
    if (len < min || len > max) {
      throw new FrameException(type + " frame of " + len + " bytes, want " + min + ".." + max);
    }
  }

  /** The packet after {@code keys} bytes of keys, bounds checked, as a retained slice. */
  private static ByteBuf packetAfter(FrameType type, ByteBuf payload, int keys) {
    int len = payload.readableBytes();
    atLeast(type, len, keys);
    if (len - keys > MAX_PACKET_SIZE) {
      throw new FrameException(type + " carries a packet of " + (len - keys) + " bytes, over the limit of " + MAX_PACKET_SIZE);
    }
    return payload.retainedSlice(payload.readerIndex() + keys, len - keys);
  }

  private static byte[] bytes(ByteBuf buf, int index, int length) {
    byte[] out = new byte[length];
    buf.getBytes(index, out);
    return out;
  }

  private static InetAddress address(byte[] ip16) {
    try {
      return InetAddress.getByAddress(ip16); // a v4-mapped v6 address comes back as Inet4Address
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static void checkPacket(ByteBuf packet) {
    if (packet.readableBytes() > MAX_PACKET_SIZE) {
      throw new IllegalArgumentException("packet of " + packet.readableBytes() + " bytes exceeds " + MAX_PACKET_SIZE);
    }
  }

  /** Shared reference counting for frames that carry a packet. */
  sealed interface PacketFrame extends Frame, ReferenceCounted permits SendPacket, RecvPacket, ForwardPacket {
    ByteBuf packet();

    /** Bytes that precede the packet in the payload (keys). */
    int prefixLength();

    @Override
    default int payloadLength() {
      return prefixLength() + packet().readableBytes();
    }

    @Override
    default int refCnt() {
      return packet().refCnt();
    }

    @Override
    default ReferenceCounted retain() {
      packet().retain();
      return this;
    }

    @Override
    default ReferenceCounted retain(int increment) {
      packet().retain(increment);
      return this;
    }

    @Override
    default ReferenceCounted touch() {
      packet().touch();
      return this;
    }

    @Override
    default ReferenceCounted touch(Object hint) {
      packet().touch(hint);
      return this;
    }

    @Override
    default boolean release() {
      return packet().release();
    }

    @Override
    default boolean release(int decrement) {
      return packet().release(decrement);
    }
  }

  /** S→C, sent first: magic + the server's public key. */
  record ServerKey(NodePublicKey serverKey) implements Frame {
    /** magic(8) + key(32), extra bytes ignored. */
    static ServerKey parse(ByteBuf payload) {
      atLeast(FrameType.SERVER_KEY, payload.readableBytes(), MAGIC.length + KEY_LENGTH);
      int at = payload.readerIndex();
      byte[] magic = bytes(payload, at, MAGIC.length);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new FrameException("ServerKey frame has the wrong magic " + ByteBufUtil.hexDump(magic));
      }
      return new ServerKey(NodePublicKey.fromBuffer(payload, at + MAGIC.length));
    }

    public FrameType type() {
      return FrameType.SERVER_KEY;
    }

    public int payloadLength() {
      return MAGIC.length + KEY_LENGTH;
    }

    public void encodePayload(ByteBuf out) {
      out.writeBytes(MAGIC);
      serverKey.writeTo(out);
    }
  }

  /** C→S: client key + nonce(24) + box(JSON). {@code nonceAndBox} is opened by the server. */
  record ClientInfo(NodePublicKey clientKey, byte[] nonceAndBox) implements Frame {
    static ClientInfo parse(ByteBuf payload) {
      int len = payload.readableBytes();
      atLeast(FrameType.CLIENT_INFO, len, MIN_CLIENT_INFO_LENGTH + 16);
      int at = payload.readerIndex();
      return new ClientInfo(NodePublicKey.fromBuffer(payload, at), bytes(payload, at + KEY_LENGTH, len - KEY_LENGTH));
    }

    public FrameType type() {
      return FrameType.CLIENT_INFO;
    }

    public int payloadLength() {
      return KEY_LENGTH + nonceAndBox.length;
    }

    public void encodePayload(ByteBuf out) {
      clientKey.writeTo(out);
      out.writeBytes(nonceAndBox);
    }
  }

  /** S→C: nonce(24) + box(JSON). */
  record ServerInfo(byte[] nonceAndBox) implements Frame {
    static ServerInfo parse(ByteBuf payload) {
      atLeast(FrameType.SERVER_INFO, payload.readableBytes(), NONCE_LENGTH + 16);
      return new ServerInfo(bytes(payload, payload.readerIndex(), payload.readableBytes()));
    }

    public FrameType type() {
      return FrameType.SERVER_INFO;
    }

    public int payloadLength() {
      return nonceAndBox.length;
    }

    public void encodePayload(ByteBuf out) {
      out.writeBytes(nonceAndBox);
    }
  }

  /** C→S: destination key + packet. */
  record SendPacket(NodePublicKey destination, ByteBuf packet) implements PacketFrame {
    /** The packet is a retained slice of {@code payload}. */
    static SendPacket parse(ByteBuf payload) {
      ByteBuf packet = packetAfter(FrameType.SEND_PACKET, payload, KEY_LENGTH);
      return new SendPacket(NodePublicKey.fromBuffer(payload, payload.readerIndex()), packet);
    }

    public SendPacket {
      checkPacket(packet);
    }

    public FrameType type() {
      return FrameType.SEND_PACKET;
    }

    public int prefixLength() {
      return KEY_LENGTH;
    }

    public void encodePayload(ByteBuf out) {
      destination.writeTo(out);
      out.writeBytes(packet, packet.readerIndex(), packet.readableBytes());
    }
  }

  /** S→C: source key + packet (protocol v2 framing). */
  record RecvPacket(NodePublicKey source, ByteBuf packet) implements PacketFrame {
    /** The packet is a retained slice of {@code payload}. */
    static RecvPacket parse(ByteBuf payload) {
      ByteBuf packet = packetAfter(FrameType.RECV_PACKET, payload, KEY_LENGTH);
      return new RecvPacket(NodePublicKey.fromBuffer(payload, payload.readerIndex()), packet);
    }

    public RecvPacket {
      checkPacket(packet);
    }

    public FrameType type() {
      return FrameType.RECV_PACKET;
    }

    public int prefixLength() {
      return KEY_LENGTH;
    }

    public void encodePayload(ByteBuf out) {
      source.writeTo(out);
      out.writeBytes(packet, packet.readerIndex(), packet.readableBytes());
    }
  }

  /** mesh→S: source key + destination key + packet. */
  record ForwardPacket(NodePublicKey source, NodePublicKey destination, ByteBuf packet) implements PacketFrame {
    /** The packet is a retained slice of {@code payload}. */
    static ForwardPacket parse(ByteBuf payload) {
      int at = payload.readerIndex();
      ByteBuf packet = packetAfter(FrameType.FORWARD_PACKET, payload, 2 * KEY_LENGTH);
      return new ForwardPacket(NodePublicKey.fromBuffer(payload, at), NodePublicKey.fromBuffer(payload, at + KEY_LENGTH), packet);
    }

    public ForwardPacket {
      checkPacket(packet);
    }

    public FrameType type() {
      return FrameType.FORWARD_PACKET;
    }

    public int prefixLength() {
      return 2 * KEY_LENGTH;
    }

    public void encodePayload(ByteBuf out) {
      source.writeTo(out);
      destination.writeTo(out);
      out.writeBytes(packet, packet.readerIndex(), packet.readableBytes());
    }
  }

  /** S→C: empty. */
  record KeepAlive() implements Frame {
    public static final KeepAlive INSTANCE = new KeepAlive();

    public FrameType type() {
      return FrameType.KEEP_ALIVE;
    }

    public int payloadLength() {
      return 0;
    }

    public void encodePayload(ByteBuf out) {}
  }

  /** C→S: whether this server is the client's home. */
  record NotePreferred(boolean preferred) implements Frame {
    static NotePreferred parse(ByteBuf payload) {
      exactly(FrameType.NOTE_PREFERRED, payload.readableBytes(), 1);
      return new NotePreferred(payload.getByte(payload.readerIndex()) != 0);
    }

    public FrameType type() {
      return FrameType.NOTE_PREFERRED;
    }

    public int payloadLength() {
      return 1;
    }

    public void encodePayload(ByteBuf out) {
      out.writeByte(preferred ? 1 : 0);
    }
  }

  /** S→C: a peer left, or was never here. */
  record PeerGone(NodePublicKey peer, PeerGoneReason reason) implements Frame {
    /** key(32) [+ reason(1)]: old servers sent no reason, which reads as DISCONNECTED. */
    static PeerGone parse(ByteBuf payload) {
      int len = payload.readableBytes();
      atLeast(FrameType.PEER_GONE, len, KEY_LENGTH);
      int at = payload.readerIndex();
      PeerGoneReason reason = len > KEY_LENGTH ? PeerGoneReason.of(payload.getUnsignedByte(at + KEY_LENGTH)) : PeerGoneReason.DISCONNECTED;
      return new PeerGone(NodePublicKey.fromBuffer(payload, at), reason);
    }

    public PeerGone {
      if (reason == PeerGoneReason.UNKNOWN) {
        throw new IllegalArgumentException("cannot send PeerGone with reason UNKNOWN");
      }
    }

    public FrameType type() {
      return FrameType.PEER_GONE;
    }

    public int payloadLength() {
      return KEY_LENGTH + 1;
    }

    public void encodePayload(ByteBuf out) {
      peer.writeTo(out);
      out.writeByte(reason.code());
    }
  }

  /**
   * S→watcher: a peer connected. Today's servers send key + IP(16) + port(2) + flags(1); older ones
   * fewer fields, so the endpoint is optional.
   */
  record PeerPresent(NodePublicKey peer, Optional<InetSocketAddress> endpoint, int flags) implements Frame {
    public static final int FLAG_REGULAR = 0x01;
    public static final int FLAG_MESH_PEER = 0x02;
    public static final int FLAG_PROBER = 0x04;
    public static final int FLAG_NOT_IDEAL = 0x08;

    /** key(32) [+ ip(16) + port(2) [+ flags(1)]]: whatever fields are present. */
    static PeerPresent parse(ByteBuf payload) {
      int len = payload.readableBytes();
      atLeast(FrameType.PEER_PRESENT, len, KEY_LENGTH);
      int at = payload.readerIndex();
      NodePublicKey key = NodePublicKey.fromBuffer(payload, at);
      InetSocketAddress endpoint = null;
      int flags = 0;
      if (len >= KEY_LENGTH + 18) {
        byte[] ip = bytes(payload, at + KEY_LENGTH, 16);
        int port = payload.getUnsignedShort(at + KEY_LENGTH + 16);
        endpoint = new InetSocketAddress(address(ip), port);
        if (len >= KEY_LENGTH + 19) {
          flags = payload.getUnsignedByte(at + KEY_LENGTH + 18);
        }
      }
      return new PeerPresent(key, Optional.ofNullable(endpoint), flags);
    }

    public FrameType type() {
      return FrameType.PEER_PRESENT;
    }

    public int payloadLength() {
      return KEY_LENGTH + 16 + 2 + 1;
    }

    public void encodePayload(ByteBuf out) {
      peer.writeTo(out);
      byte[] ip16 = new byte[16];
      int port = 0;
      if (endpoint.isPresent()) {
        byte[] raw = endpoint.get().getAddress().getAddress();
        if (raw.length == 4) {
          ip16[10] = (byte) 0xff;
          ip16[11] = (byte) 0xff;
          System.arraycopy(raw, 0, ip16, 12, 4);
        } else {
          ip16 = raw;
        }
        port = endpoint.get().getPort();
      }
      out.writeBytes(ip16);
      out.writeShort(port);
      out.writeByte(flags);
    }
  }

  /** mesh→S: subscribe to PeerPresent/PeerGone for every client. */
  record WatchConns() implements Frame {
    public static final WatchConns INSTANCE = new WatchConns();

    static WatchConns parse(ByteBuf payload) {
      exactly(FrameType.WATCH_CONNS, payload.readableBytes(), 0);
      return INSTANCE;
    }

    public FrameType type() {
      return FrameType.WATCH_CONNS;
    }

    public int payloadLength() {
      return 0;
    }

    public void encodePayload(ByteBuf out) {}
  }

  /** mesh→S: close the named peer's connection. */
  record ClosePeer(NodePublicKey peer) implements Frame {
    static ClosePeer parse(ByteBuf payload) {
      exactly(FrameType.CLOSE_PEER, payload.readableBytes(), KEY_LENGTH);
      return new ClosePeer(NodePublicKey.fromBuffer(payload, payload.readerIndex()));
    }

    public FrameType type() {
      return FrameType.CLOSE_PEER;
    }

    public int payloadLength() {
      return KEY_LENGTH;
    }

    public void encodePayload(ByteBuf out) {
      peer.writeTo(out);
    }
  }

  /** Either way: 8 opaque bytes to be echoed in a {@link Pong}. A server accepts 8..1000 and echoes the first 8. */
  record Ping(PingData payload) implements Frame {
    public Ping(byte[] data) {
      this(PingData.of(data));
    }

    static Ping parse(ByteBuf payload) {
      between(FrameType.PING, payload.readableBytes(), MIN_PING_LENGTH, MAX_PING_LENGTH);
      return new Ping(PingData.read(payload));
    }

    public byte[] data() {
      return payload.bytes();
    }

    public FrameType type() {
      return FrameType.PING;
    }

    public int payloadLength() {
      return PingData.LENGTH;
    }

    public void encodePayload(ByteBuf out) {
      payload.writeTo(out);
    }
  }

  /** Either way: the echo of a {@link Ping}. */
  record Pong(PingData payload) implements Frame {
    public Pong(byte[] data) {
      this(PingData.of(data));
    }

    static Pong parse(ByteBuf payload) {
      atLeast(FrameType.PONG, payload.readableBytes(), PingData.LENGTH);
      return new Pong(PingData.read(payload));
    }

    public byte[] data() {
      return payload.bytes();
    }

    public FrameType type() {
      return FrameType.PONG;
    }

    public int payloadLength() {
      return PingData.LENGTH;
    }

    public void encodePayload(ByteBuf out) {
      payload.writeTo(out);
    }
  }

  /** S→C: a problem the client should surface; empty means healthy again. */
  record Health(String problem) implements Frame {
    static Health parse(ByteBuf payload) {
      return new Health(payload.toString(payload.readerIndex(), payload.readableBytes(), StandardCharsets.UTF_8));
    }

    public FrameType type() {
      return FrameType.HEALTH;
    }

    public int payloadLength() {
      return problem.getBytes(StandardCharsets.UTF_8).length;
    }

    public void encodePayload(ByteBuf out) {
      out.writeBytes(problem.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** S→C: the server is restarting; wait {@code reconnectInMillis}, then retry for {@code tryForMillis}. */
  record Restarting(long reconnectInMillis, long tryForMillis) implements Frame {
    static Restarting parse(ByteBuf payload) {
      atLeast(FrameType.RESTARTING, payload.readableBytes(), 8);
      int at = payload.readerIndex();
      return new Restarting(payload.getUnsignedInt(at), payload.getUnsignedInt(at + 4));
    }

    public FrameType type() {
      return FrameType.RESTARTING;
    }

    public int payloadLength() {
      return 8;
    }

    public void encodePayload(ByteBuf out) {
      out.writeInt((int) reconnectInMillis);
      out.writeInt((int) tryForMillis);
    }
  }

  /** A type this version does not know; its payload was skipped. Never encoded. */
  record Unknown(int typeCode, int length) implements Frame {
    public FrameType type() {
      return null;
    }

    public int payloadLength() {
      return length;
    }

    public void encodePayload(ByteBuf out) {
      throw new UnsupportedOperationException("unknown frames are skipped, not sent");
    }
  }
}
