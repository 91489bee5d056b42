package dev.derphole.transport.portmap;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Optional;

/**
 * PCP MAP request (RFC 6887 §7.1 and §11.1), 60 bytes without options:
 *
 * <pre>
 *  0        1        2                 4                                   8
 *  +--------+--------+-----------------+-----------------------------------+
 *  | vers 2 |R=0|op 1| reserved (0)    | requested lifetime, seconds       |
 *  +--------+--------+-----------------+-----------------------------------+
 *  | PCP client's IP address (16 bytes): the source address of this        |
 *  | request, IPv4-mapped; the server answers ADDRESS_MISMATCH otherwise   |  24
 *  +-----------------------------------------------------------------------+
 *  | mapping nonce (12 bytes)                                              |  36
 *  +--------+--------------------------+-----------------+-----------------+
 *  | proto  | reserved (0, 3 bytes)    | internal port   | suggested ext.  |  44
 *  +--------+--------------------------+-----------------+-----------------+
 *  | suggested external IP address (16 bytes), ::ffff:0.0.0.0 for "any"    |  60
 *  +-----------------------------------------------------------------------+
 * </pre>
 *
 * Lifetime 0 with the mapping's nonce deletes it.
 */
record PcpMapRequest(long lifetimeSeconds, InetAddress clientAddress, PcpNonce nonce, int protocol,
    int internalPort, int suggestedExternalPort, InetAddress suggestedExternalAddress) implements WireMessage {
  static final int LENGTH = Pcp.HEADER_LENGTH + Pcp.MAP_PAYLOAD_LENGTH;

  PcpMapRequest {
    UnsignedFields.checkU32("lifetimeSeconds", lifetimeSeconds);
    Objects.requireNonNull(clientAddress, "clientAddress");
    Objects.requireNonNull(nonce, "nonce");
    UnsignedFields.checkU8("protocol", protocol);
    UnsignedFields.checkU16("internalPort", internalPort);
    UnsignedFields.checkU16("suggestedExternalPort", suggestedExternalPort);
    Objects.requireNonNull(suggestedExternalAddress, "suggestedExternalAddress");
  }

  @Override
  public int encodedLength() {
    return LENGTH;
  }

  @Override
  public void encode(ByteBuffer out) {
    out.put((byte) Pcp.VERSION).put((byte) Pcp.OP_MAP).putShort((short) 0).putInt((int) lifetimeSeconds);
    Pcp.putAddress(out, clientAddress);
    out.put(nonce.bytes()).put((byte) protocol).put(new byte[3]);
    out.putShort((short) internalPort).putShort((short) suggestedExternalPort);
    Pcp.putAddress(out, suggestedExternalAddress);
  }

  /** Empty unless the bytes are a version 2 MAP request; options after the payload are skipped. */
  static Optional<PcpMapRequest> decode(ByteBuffer in) {
    if (in.remaining() < LENGTH || in.remaining() > Pcp.MAX_LENGTH || in.remaining() % 4 != 0
        || in.get() != Pcp.VERSION || in.get() != Pcp.OP_MAP) {
      return Optional.empty();
    }
    in.getShort();
    long lifetime = UnsignedFields.u32(in);
    InetAddress client = Pcp.getAddress(in);
    byte[] nonce = new byte[PcpNonce.LENGTH];
    in.get(nonce);
    int protocol = in.get() & 0xff;
    in.position(in.position() + 3);
    int internalPort = UnsignedFields.u16(in);
    int suggestedPort = UnsignedFields.u16(in);
    InetAddress suggestedAddress = Pcp.getAddress(in);
    return Optional.of(new PcpMapRequest(lifetime, client, new PcpNonce(nonce), protocol, internalPort,
        suggestedPort, suggestedAddress));
  }
}
