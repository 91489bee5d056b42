package dev.derphole.derp.frame;

import static dev.derphole.derp.frame.DerpProtocol.HEADER_LENGTH;
import static dev.derphole.derp.frame.DerpProtocol.KEY_LENGTH;
import static dev.derphole.derp.frame.DerpProtocol.MAX_PACKET_SIZE;

import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;

/**
 * A ForwardPacket frame from a mesh peer kept as the bytes it arrived in, header included, for a
 * relay. The RecvPacket it becomes is its last bytes with a new header and the source moved over
 * the destination:
 *
 * <pre>
 *   ForwardPacket  0a | len(4) | source key(32) | destination key(32) | packet     from the peer
 *   RecvPacket                        05 | len-32(4) | source key(32) | packet     to the receiver
 *                  ◀──── 32 bytes ───▶
 * </pre>
 *
 * so {@link #toRecvPacket} rewrites 37 bytes in place and hands the same buffer on, as
 * {@link RawSendPacket} does for a client's packet. {@link FrameDecoder#forRelay} produces these
 * instead of {@link Frame.ForwardPacket}.
 *
 * <p>Owns a retained slice of the read buffer: whoever holds one calls {@link #release} or
 * {@link #toRecvPacket}, exactly once.
 */
public final class RawForwardPacket {
  private static final int SOURCE_AT = HEADER_LENGTH;
  private static final int DESTINATION_AT = HEADER_LENGTH + KEY_LENGTH;
  private static final int PACKET_AT = HEADER_LENGTH + 2 * KEY_LENGTH;

  private final ByteBuf frame;

  private RawForwardPacket(ByteBuf frame) {
    this.frame = frame;
  }

  /**
   * Checks a ForwardPacket's payload length as {@link Frame#decode} does.
   *
   * @throws FrameException when the payload cannot hold two keys or carries more than a packet's worth
   */
  static void checkPayloadLength(long length) {
    if (length < 2 * KEY_LENGTH) {
      throw new FrameException(FrameType.FORWARD_PACKET + " frame of " + length + " bytes is shorter than " + 2 * KEY_LENGTH);
    }
    if (length - 2 * KEY_LENGTH > MAX_PACKET_SIZE) {
      throw new FrameException(FrameType.FORWARD_PACKET + " carries a packet of " + (length - 2 * KEY_LENGTH)
          + " bytes, over the limit of " + MAX_PACKET_SIZE);
    }
  }

  /** Takes ownership of {@code frame}: exactly one whole, length-checked ForwardPacket frame. */
  static RawForwardPacket of(ByteBuf frame) {
    return new RawForwardPacket(frame);
  }

  /** Packet bytes, without header and keys. */
  public int packetLength() {
    return frame.readableBytes() - PACKET_AT;
  }

  /** The destination as a key object (allocates). */
  public NodePublicKey destination() {
    return NodePublicKey.fromBuffer(frame, frame.readerIndex() + DESTINATION_AT);
  }

  /** The source as a key object (allocates). */
  public NodePublicKey source() {
    return NodePublicKey.fromBuffer(frame, frame.readerIndex() + SOURCE_AT);
  }

  /** Whether the source key is {@code key} (32 raw bytes), compared without allocating. */
  public boolean sourceIs(byte[] key) {
    int at = frame.readerIndex() + SOURCE_AT;
    for (int i = 0; i < KEY_LENGTH; i++) {
      if (frame.getByte(at + i) != key[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * The RecvPacket that carries this packet from its source, ready to write: ownership of the
   * buffer passes to the caller. Rewritten in place unless the buffer is read-only, when the
   * RecvPacket is a copy.
   */
  public ByteBuf toRecvPacket() {
    int at = frame.readerIndex();
    int length = frame.readableBytes() - HEADER_LENGTH - KEY_LENGTH; // source + packet
    if (frame.isReadOnly()) {
      ByteBuf copy = frame.alloc().buffer(HEADER_LENGTH + length);
      copy.writeByte(FrameType.RECV_PACKET.code());
      copy.writeInt(length);
      copy.writeBytes(frame, at + SOURCE_AT, KEY_LENGTH);
      copy.writeBytes(frame, at + PACKET_AT, length - KEY_LENGTH);
      frame.release();
      return copy;
    }
    frame.setBytes(at + DESTINATION_AT, frame, at + SOURCE_AT, KEY_LENGTH); // the source over the destination
    frame.setByte(at + KEY_LENGTH, FrameType.RECV_PACKET.code());
    frame.setInt(at + KEY_LENGTH + 1, length);
    return frame.skipBytes(KEY_LENGTH);
  }

  public boolean release() {
    return frame.release();
  }

  @Override
  public String toString() {
    return FrameType.FORWARD_PACKET + " of " + packetLength() + " bytes";
  }
}
