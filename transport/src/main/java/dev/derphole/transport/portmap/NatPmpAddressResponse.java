package dev.derphole.transport.portmap;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Optional;

/**
 * NAT-PMP external address response (RFC 6886 §3.2), 12 bytes:
 *
 * <pre>
 *  0        1        2                 4                                   8
 *  +--------+--------+-----------------+-----------------------------------+
 *  | vers 0 | op 128 | result code     | seconds since start of epoch      |
 *  +--------+--------+-----------------+-----------------------------------+
 *  | external IPv4 address             |  12
 *  +-----------------------------------+
 * </pre>
 *
 * An error response may stop after 8 bytes; it decodes with the address 0.0.0.0, which is also
 * what a gateway without an external address sends.
 */
record NatPmpAddressResponse(int resultCode, long epochSeconds, Inet4Address externalAddress)
    implements WireMessage {
  static final int LENGTH = 12;
  static final Inet4Address NONE = ipv4(new byte[4]);

  NatPmpAddressResponse {
    Objects.requireNonNull(externalAddress, "externalAddress");
    UnsignedFields.checkU16("resultCode", resultCode);
    UnsignedFields.checkU32("epochSeconds", epochSeconds);
  }

  @Override
  public int encodedLength() {
    return LENGTH;
  }

  @Override
  public void encode(ByteBuffer out) {
    out.put((byte) NatPmp.VERSION).put((byte) (NatPmp.RESPONSE + NatPmp.OP_EXTERNAL_ADDRESS));
    out.putShort((short) resultCode).putInt((int) epochSeconds).put(externalAddress.getAddress());
  }

  /** Empty unless the bytes are a well-formed response to an external address request. */
  static Optional<NatPmpAddressResponse> decode(ByteBuffer in) {
    if (!NatPmp.responseHeader(in, NatPmp.OP_EXTERNAL_ADDRESS)) {
      return Optional.empty();
    }
    int result = UnsignedFields.u16(in);
    long epoch = UnsignedFields.u32(in);
    if (in.remaining() < 4) {
      return result == NatPmp.SUCCESS ? Optional.empty() : Optional.of(new NatPmpAddressResponse(result, epoch, NONE));
    }
    byte[] address = new byte[4];
    in.get(address);
    return Optional.of(new NatPmpAddressResponse(result, epoch, ipv4(address)));
  }

  private static Inet4Address ipv4(byte[] octets) {
    try {
      return (Inet4Address) InetAddress.getByAddress(octets);
    } catch (UnknownHostException impossible) {
      throw new AssertionError("4 bytes are always an IPv4 address", impossible);
    }
  }
}
