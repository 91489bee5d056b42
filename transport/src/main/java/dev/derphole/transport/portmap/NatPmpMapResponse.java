package dev.derphole.transport.portmap;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * NAT-PMP response to a map UDP request (RFC 6886 §3.3), 16 bytes:
 *
 * <pre>
 *  0        1        2                 4                                   8
 *  +--------+--------+-----------------+-----------------------------------+
 *  | vers 0 | op 129 | result code     | seconds since start of epoch      |
 *  +--------+--------+-----------------+-----------------+-----------------+
 *  | internal port   | mapped external | lifetime granted, in seconds      |  16
 *  +-----------------+-----------------+-----------------------------------+
 * </pre>
 *
 * An error response may stop after 8 bytes; it decodes with zero ports and lifetime.
 */
record NatPmpMapResponse(int resultCode, long epochSeconds, int internalPort, int externalPort, long lifetimeSeconds)
    implements WireMessage {
  static final int LENGTH = 16;

  NatPmpMapResponse {
    UnsignedFields.checkU16("resultCode", resultCode);
    UnsignedFields.checkU32("epochSeconds", epochSeconds);
    UnsignedFields.checkU16("internalPort", internalPort);
    UnsignedFields.checkU16("externalPort", externalPort);
    UnsignedFields.checkU32("lifetimeSeconds", lifetimeSeconds);
  }

  @Override
  public int encodedLength() {
    return LENGTH;
  }

  @Override
  public void encode(ByteBuffer out) {
    out.put((byte) NatPmp.VERSION).put((byte) (NatPmp.RESPONSE + NatPmp.OP_MAP_UDP));
    out.putShort((short) resultCode).putInt((int) epochSeconds);
    out.putShort((short) internalPort).putShort((short) externalPort).putInt((int) lifetimeSeconds);
  }

  /** Empty unless the bytes are a well-formed response to a map UDP request. */
  static Optional<NatPmpMapResponse> decode(ByteBuffer in) {
    if (!NatPmp.responseHeader(in, NatPmp.OP_MAP_UDP)) {
      return Optional.empty();
    }
    int result = UnsignedFields.u16(in);
    long epoch = UnsignedFields.u32(in);
    if (in.remaining() < LENGTH - NatPmp.RESPONSE_HEADER_LENGTH) {
      return result == NatPmp.SUCCESS ? Optional.empty() : Optional.of(new NatPmpMapResponse(result, epoch, 0, 0, 0));
    }
    int internal = UnsignedFields.u16(in);
    int external = UnsignedFields.u16(in);
    return Optional.of(new NatPmpMapResponse(result, epoch, internal, external, UnsignedFields.u32(in)));
  }
}
