package dev.derphole.transport.portmap;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * NAT-PMP (RFC 6886), the protocol Apple routers spoke before PCP. All messages are UDP, big-endian,
 * from an ephemeral port of ours to the gateway's port 5351, and the answer comes back from there:
 *
 * <pre>
 *   us ── external address request (op 0) ─────────▶ gateway:5351
 *   us ◀── external address response (op 128) ────── the gateway's public IPv4 address
 *   us ── map UDP request (op 1): internal port, ──▶
 *         suggested external port, lifetime 7200 s
 *   us ◀── map UDP response (op 129): the external ── the mapping lives that long unless renewed;
 *          port and the lifetime granted               a request with lifetime 0 deletes it
 * </pre>
 *
 * Every response starts {@code version(1) = 0, op(1) = 128 + request op, result code(2), seconds
 * since the gateway's epoch(4)}. An error response may stop after those 8 bytes (the "unsupported
 * version" response of §3.5 always does). The codecs are the {@code NatPmp*Request/Response}
 * records; {@link NatPmpClient} runs the exchanges.
 */
final class NatPmp {
  static final int PORT = 5351;
  static final int VERSION = 0;
  static final int OP_EXTERNAL_ADDRESS = 0;
  static final int OP_MAP_UDP = 1;
  /** Added to the request's op in the response. */
  static final int RESPONSE = 128;
  /** The lifetime RFC 6886 §3.3 recommends asking for. */
  static final Duration REQUESTED_LIFETIME = Duration.ofSeconds(7200);
  /** Bytes of the header every response starts with, and all an error response must carry. */
  static final int RESPONSE_HEADER_LENGTH = 8;

  static final int SUCCESS = 0;
  static final int UNSUPPORTED_VERSION = 1;
  static final int NOT_AUTHORIZED = 2;
  static final int NETWORK_FAILURE = 3;
  static final int OUT_OF_RESOURCES = 4;
  static final int UNSUPPORTED_OPCODE = 5;

  private NatPmp() {}

  /** A result code as RFC 6886 §3.5 names it, for messages a person reads. */
  static String resultName(int code) {
    return switch (code) {
      case SUCCESS -> "success";
      case UNSUPPORTED_VERSION -> "unsupported version";
      case NOT_AUTHORIZED -> "not authorized/refused";
      case NETWORK_FAILURE -> "network failure (the gateway has no external address yet?)";
      case OUT_OF_RESOURCES -> "out of resources";
      case UNSUPPORTED_OPCODE -> "unsupported opcode";
      default -> "result code " + code;
    } + " (" + code + ")";
  }

  /**
   * Reads the version and op of a response and checks them. Leaves {@code in} after the op.
   *
   * @return false when the bytes are not a NAT-PMP response to {@code requestOp}
   */
  static boolean responseHeader(ByteBuffer in, int requestOp) {
    return in.remaining() >= RESPONSE_HEADER_LENGTH
        && (in.get() & 0xff) == VERSION
        && (in.get() & 0xff) == RESPONSE + requestOp;
  }
}
