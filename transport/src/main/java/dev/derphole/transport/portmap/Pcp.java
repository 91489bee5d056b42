package dev.derphole.transport.portmap;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * PCP, the Port Control Protocol (RFC 6887): NAT-PMP's successor on the same port 5351. We use its
 * MAP opcode only:
 *
 * <pre>
 *   us ── MAP request: nonce, UDP, internal port, ──▶ gateway:5351
 *         suggested external port/address, lifetime
 *   us ◀── MAP response: same nonce, assigned ──────── lives that long unless renewed with the
 *          external port and address, lifetime         same nonce; lifetime 0 deletes it
 * </pre>
 *
 * A gateway that only speaks NAT-PMP answers a PCP request with a NAT-PMP "unsupported version"
 * response, whose first byte is version 0 (RFC 6887 §9); {@link PcpClient} then falls back.
 *
 * <p>Addresses are 16 bytes; an IPv4 address travels IPv4-mapped ({@code ::ffff:a.b.c.d}), and
 * "no preference" is {@code ::ffff:0.0.0.0}. The codecs are {@link PcpMapRequest} and {@link
 * PcpMapResponse}.
 */
final class Pcp {
  static final int PORT = 5351;
  static final int VERSION = 2;
  static final int OP_MAP = 1;
  /** The R bit of the second byte: set in responses. */
  static final int RESPONSE = 0x80;
  /** IANA protocol number for UDP, in the MAP payload. */
  static final int PROTOCOL_UDP = 17;
  static final int HEADER_LENGTH = 24;
  static final int MAP_PAYLOAD_LENGTH = 36;
  static final int MAX_LENGTH = 1100;
  static final Duration REQUESTED_LIFETIME = Duration.ofSeconds(7200);
  static final Inet4Address NO_ADDRESS = (Inet4Address) address(new byte[4]);
  /** IPv6's all-zeros address, {@code ::}: "no preference" in a MAP for an IPv6 internal address (RFC 6887 §11.1). */
  static final java.net.Inet6Address NO_ADDRESS6 = (java.net.Inet6Address) address(new byte[16]);

  static final int SUCCESS = 0;
  static final int UNSUPP_VERSION = 1;
  static final int NOT_AUTHORIZED = 2;
  static final int MALFORMED_REQUEST = 3;
  static final int UNSUPP_OPCODE = 4;
  static final int UNSUPP_OPTION = 5;
  static final int MALFORMED_OPTION = 6;
  static final int NETWORK_FAILURE = 7;
  static final int NO_RESOURCES = 8;
  static final int UNSUPP_PROTOCOL = 9;
  static final int USER_EX_QUOTA = 10;
  static final int CANNOT_PROVIDE_EXTERNAL = 11;
  static final int ADDRESS_MISMATCH = 12;
  static final int EXCESSIVE_REMOTE_PEERS = 13;

  private static final byte[] IPV4_MAPPED_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff};

  private Pcp() {}

  /** A result code as RFC 6887 §7.4 names it, for messages a person reads. */
  static String resultName(int code) {
    return switch (code) {
      case SUCCESS -> "SUCCESS";
      case UNSUPP_VERSION -> "UNSUPP_VERSION";
      case NOT_AUTHORIZED -> "NOT_AUTHORIZED";
      case MALFORMED_REQUEST -> "MALFORMED_REQUEST";
      case UNSUPP_OPCODE -> "UNSUPP_OPCODE";
      case UNSUPP_OPTION -> "UNSUPP_OPTION";
      case MALFORMED_OPTION -> "MALFORMED_OPTION";
      case NETWORK_FAILURE -> "NETWORK_FAILURE";
      case NO_RESOURCES -> "NO_RESOURCES";
      case UNSUPP_PROTOCOL -> "UNSUPP_PROTOCOL";
      case USER_EX_QUOTA -> "USER_EX_QUOTA";
      case CANNOT_PROVIDE_EXTERNAL -> "CANNOT_PROVIDE_EXTERNAL";
      case ADDRESS_MISMATCH -> "ADDRESS_MISMATCH (a NAT between us and the gateway?)";
      case EXCESSIVE_REMOTE_PEERS -> "EXCESSIVE_REMOTE_PEERS";
      default -> "result code";
    } + " (" + code + ")";
  }

  /** Writes 16 bytes: IPv6 as is, IPv4 IPv4-mapped. */
  static void putAddress(ByteBuffer out, InetAddress address) {
    if (address instanceof Inet6Address) {
      out.put(address.getAddress());
    } else {
      out.put(IPV4_MAPPED_PREFIX).put(address.getAddress());
    }
  }

  /** Reads 16 bytes; an IPv4-mapped address comes back as an {@link Inet4Address}. */
  static InetAddress getAddress(ByteBuffer in) {
    byte[] bytes = new byte[16];
    in.get(bytes);
    return address(bytes);
  }

  private static InetAddress address(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException impossible) {
      throw new AssertionError("4 or 16 bytes are always an address", impossible);
    }
  }
}
