package dev.derphole.transport.portmap;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * NAT-PMP external address request (RFC 6886 §3.2), 2 bytes:
 *
 * <pre>
 *  0        1        2
 *  +--------+--------+
 *  | vers 0 | op 0   |
 *  +--------+--------+
 * </pre>
 */
record NatPmpAddressRequest() implements WireMessage {
  static final int LENGTH = 2;

  @Override
  public int encodedLength() {
    return LENGTH;
  }

  @Override
  public void encode(ByteBuffer out) {
    out.put((byte) NatPmp.VERSION).put((byte) NatPmp.OP_EXTERNAL_ADDRESS);
  }

  /** Empty unless the bytes are exactly this request. */
  static Optional<NatPmpAddressRequest> decode(ByteBuffer in) {
    if (in.remaining() != LENGTH || in.get() != NatPmp.VERSION || in.get() != NatPmp.OP_EXTERNAL_ADDRESS) {
      return Optional.empty();
    }
    return Optional.of(new NatPmpAddressRequest());
  }
}
