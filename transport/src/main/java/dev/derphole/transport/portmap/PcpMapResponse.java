package dev.derphole.transport.portmap;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Optional;

/**
 * PCP MAP response (RFC 6887 §7.2 and §11.1), 60 bytes without options:
 *
 * <pre>
 *  0        1        2        3        4                                   8
 *  +--------+--------+--------+--------+-----------------------------------+
 *  | vers 2 |R=1|op 1| rsvd   | result | lifetime, seconds                 |
 *  +--------+--------+--------+--------+-----------------------------------+
 *  | epoch time, seconds               | reserved (12 bytes)               |  24
 *  +-----------------------------------+-----------------------------------+
 *  | mapping nonce (12 bytes), as in the request                           |  36
 *  +--------+--------------------------+-----------------+-----------------+
 *  | proto  | reserved (3 bytes)       | internal port   | assigned ext.   |  44
 *  +--------+--------------------------+-----------------+-----------------+
 *  | assigned external IP address (16 bytes, IPv4-mapped)                  |  60
 *  +-----------------------------------------------------------------------+
 * </pre>
 *
 * On success the lifetime is how long the mapping lives; on error, how long the error holds. An
 * error response may be the 24-byte header only; it decodes with {@code nonce == null}, zero
 * ports and {@link Pcp#NO_ADDRESS}.
 */
record PcpMapResponse(int resultCode, long lifetimeSeconds, long epochSeconds, PcpNonce nonce, int protocol,
    int internalPort, int externalPort, InetAddress externalAddress) implements WireMessage {
  static final int LENGTH = Pcp.HEADER_LENGTH + Pcp.MAP_PAYLOAD_LENGTH;

  PcpMapResponse {
    UnsignedFields.checkU8("resultCode", resultCode);
    UnsignedFields.checkU32("lifetimeSeconds", lifetimeSeconds);
    UnsignedFields.checkU32("epochSeconds", epochSeconds);
    if (nonce == null && resultCode == Pcp.SUCCESS) {
      throw new IllegalArgumentException("a successful MAP response carries the nonce");
    }
    UnsignedFields.checkU8("protocol", protocol);
    UnsignedFields.checkU16("internalPort", internalPort);
    UnsignedFields.checkU16("externalPort", externalPort);
    Objects.requireNonNull(externalAddress, "externalAddress");
  }

  @Override
  public int encodedLength() {
    return nonce == null ? Pcp.HEADER_LENGTH : LENGTH;
  }

  @Override
  public void encode(ByteBuffer out) {
    out.put((byte) Pcp.VERSION).put((byte) (Pcp.RESPONSE | Pcp.OP_MAP)).put((byte) 0).put((byte) resultCode);
    out.putInt((int) lifetimeSeconds).putInt((int) epochSeconds).put(new byte[12]);
    if (nonce != null) {
      out.put(nonce.bytes()).put((byte) protocol).put(new byte[3]);
      out.putShort((short) internalPort).putShort((short) externalPort);
      Pcp.putAddress(out, externalAddress);
    }
  }

  /**
   * Empty unless the bytes are a version 2 MAP response of a length RFC 6887 §8.3 accepts (24 to
   * 1100, a multiple of 4). Options after the payload are skipped.
   */
  static Optional<PcpMapResponse> decode(ByteBuffer in) {
    int length = in.remaining();
    if (length < Pcp.HEADER_LENGTH || length > Pcp.MAX_LENGTH || length % 4 != 0
        || in.get() != Pcp.VERSION || (in.get() & 0xff) != (Pcp.RESPONSE | Pcp.OP_MAP)) {
      return Optional.empty();
    }
    in.get();
    int result = in.get() & 0xff;
    long lifetime = UnsignedFields.u32(in);
    long epoch = UnsignedFields.u32(in);
    in.position(in.position() + 12);
    if (length < LENGTH) {
      return result == Pcp.SUCCESS
          ? Optional.empty()
          : Optional.of(new PcpMapResponse(result, lifetime, epoch, null, 0, 0, 0, Pcp.NO_ADDRESS));
    }
    byte[] nonce = new byte[PcpNonce.LENGTH];
    in.get(nonce);
    int protocol = in.get() & 0xff;
    in.position(in.position() + 3);
    int internalPort = UnsignedFields.u16(in);
    int externalPort = UnsignedFields.u16(in);
    InetAddress external = Pcp.getAddress(in);
    return Optional.of(new PcpMapResponse(result, lifetime, epoch, new PcpNonce(nonce), protocol, internalPort,
        externalPort, external));
  }
}
