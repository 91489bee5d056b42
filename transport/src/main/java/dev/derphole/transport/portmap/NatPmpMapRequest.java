package dev.derphole.transport.portmap;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * NAT-PMP request to map a UDP port (RFC 6886 §3.3), 12 bytes:
 *
 * <pre>
 *  0        1        2                 4                 6                 8
 *  +--------+--------+-----------------+-----------------+-----------------+
 *  | vers 0 | op 1   | reserved (0)    | internal port   | suggested ext.  |
 *  +--------+--------+-----------------+-----------------+-----------------+
 *  | requested lifetime in seconds     |  12
 *  +-----------------------------------+
 * </pre>
 *
 * Lifetime 0 deletes the mapping of the internal port. The RFC wants the suggested external port
 * 0 then; we send the mapped port anyway, because miniupnpd deletes by external port (and takes 0
 * to mean "the internal port"), and a gateway that follows the RFC ignores the field.
 */
record NatPmpMapRequest(int internalPort, int suggestedExternalPort, long lifetimeSeconds) implements WireMessage {
  static final int LENGTH = 12;

  NatPmpMapRequest {
    UnsignedFields.checkU16("internalPort", internalPort);
    UnsignedFields.checkU16("suggestedExternalPort", suggestedExternalPort);
    UnsignedFields.checkU32("lifetimeSeconds", lifetimeSeconds);
  }

  @Override
  public int encodedLength() {
    return LENGTH;
  }

  @Override
  public void encode(ByteBuffer out) {
    out.put((byte) NatPmp.VERSION).put((byte) NatPmp.OP_MAP_UDP).putShort((short) 0);
    out.putShort((short) internalPort).putShort((short) suggestedExternalPort).putInt((int) lifetimeSeconds);
  }

  /** Empty unless the bytes are a map UDP request. The reserved field is not checked. */
  static Optional<NatPmpMapRequest> decode(ByteBuffer in) {
    if (in.remaining() != LENGTH || in.get() != NatPmp.VERSION || in.get() != NatPmp.OP_MAP_UDP) {
      return Optional.empty();
    }
    in.getShort();
    return Optional.of(new NatPmpMapRequest(UnsignedFields.u16(in), UnsignedFields.u16(in), UnsignedFields.u32(in)));
  }
}
