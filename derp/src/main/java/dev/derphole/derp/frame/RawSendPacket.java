package dev.derphole.derp.frame;

import static dev.derphole.derp.frame.DerpProtocol.HEADER_LENGTH;
import static dev.derphole.derp.frame.DerpProtocol.KEY_LENGTH;
import static dev.derphole.derp.frame.DerpProtocol.MAX_PACKET_SIZE;

import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A SendPacket frame kept as the bytes it arrived in, header included, for a relay. The frame it
 * forwards has the same length and differs in 33 bytes:
 *
 * <pre>
 *   SendPacket  04 | len(4) | destination key(32) | packet      from the sender
 *   RecvPacket  05 | len(4) | source key(32)      | packet      to the receiver
 * </pre>
 *
 * so {@link #toRecvPacket} rewrites those bytes in place and hands the same buffer on: no copy of
 * the packet, no header buffer, one buffer per packet to write. {@link FrameDecoder#forRelay}
 * produces these instead of {@link Frame.SendPacket}.
 *
 * <p>Owns a retained slice of the read buffer: whoever holds one calls {@link #release} or
 * {@link #toRecvPacket}, exactly once.
 */
public final class RawSendPacket {
  private static final int DESTINATION_AT = HEADER_LENGTH;
  private static final int PACKET_AT = HEADER_LENGTH + KEY_LENGTH;
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private final ByteBuf frame;

  private RawSendPacket(ByteBuf frame) {
    this.frame = frame;
  }

  /**
   * Checks a SendPacket's payload length as {@link Frame#decode} does, before the caller takes a
   * slice for {@link #of}.
   *
   * @throws FrameException when the payload cannot hold a key or carries more than a packet's worth
   */
  static void checkPayloadLength(long length) {
    if (length < KEY_LENGTH) {
      throw new FrameException(FrameType.SEND_PACKET + " frame of " + length + " bytes is shorter than " + KEY_LENGTH);
    }
    if (length - KEY_LENGTH > MAX_PACKET_SIZE) {
      throw new FrameException(FrameType.SEND_PACKET + " carries a packet of " + (length - KEY_LENGTH)
          + " bytes, over the limit of " + MAX_PACKET_SIZE);
    }
  }

  /** Takes ownership of {@code frame}: exactly one whole, length-checked SendPacket frame. */
  static RawSendPacket of(ByteBuf frame) {
    return new RawSendPacket(frame);
  }

  /** Packet bytes, without header and key. */
  public int packetLength() {
    return frame.readableBytes() - PACKET_AT;
  }

  /** Whether the destination key is {@code key} (32 raw bytes), compared without allocating. */
  public boolean destinationIs(byte[] key) {
    int at = frame.readerIndex() + DESTINATION_AT;
    for (int i = 0; i < KEY_LENGTH; i += Long.BYTES) {
      if (frame.getLong(at + i) != (long) LONGS.get(key, i)) {
        return false;
      }
    }
    return true;
  }

  /** The destination as a key object (allocates: callers cache it). */
  public NodePublicKey destination() {
    return NodePublicKey.fromBuffer(frame, frame.readerIndex() + DESTINATION_AT);
  }

  /** A view of the packet bytes, valid while this frame is held; not retained. */
  public ByteBuf packet() {
    return frame.slice(frame.readerIndex() + PACKET_AT, packetLength());
  }

  /**
   * The RecvPacket that carries this packet from {@code source} (32 raw bytes), ready to write:
   * ownership of the buffer passes to the caller. The bytes are rewritten in place unless the
   * buffer is read-only, when they are copied.
   */
  public ByteBuf toRecvPacket(byte[] source) {
    ByteBuf out = frame;
    if (out.isReadOnly()) {
      out = frame.alloc().buffer(frame.readableBytes()).writeBytes(frame);
      frame.release();
    }
    int at = out.readerIndex();
    out.setByte(at, FrameType.RECV_PACKET.code());
    out.setBytes(at + DESTINATION_AT, source, 0, KEY_LENGTH);
    return out;
  }

  /** The length of the ForwardPacket frame that carries this packet to a mesh peer, header included. */
  public int forwardPacketLength() {
    return frame.readableBytes() + KEY_LENGTH;
  }

  /**
   * Writes the ForwardPacket that hands this packet from {@code source} (32 raw bytes) to a mesh
   * peer into {@code out}, and releases this frame. Many of them go into one buffer and one write
   * (a mesh link carries the packets of every pair split across two relays), so the packet is
   * copied once here instead of taking a buffer and an iovec of its own.
   *
   * <pre>
   *   ForwardPacket  0a | len+32(4) | source key(32) | destination key(32) | packet
   * </pre>
   */
  public void writeForwardPacketTo(byte[] source, ByteBuf out) {
    int length = frame.readableBytes() - HEADER_LENGTH;
    out.writeByte(FrameType.FORWARD_PACKET.code());
    out.writeInt(length + KEY_LENGTH);
    out.writeBytes(source, 0, KEY_LENGTH);
    out.writeBytes(frame, frame.readerIndex() + DESTINATION_AT, length);
    frame.release();
  }

  public boolean release() {
    return frame.release();
  }

  @Override
  public String toString() {
    return FrameType.SEND_PACKET + " of " + packetLength() + " bytes";
  }
}
