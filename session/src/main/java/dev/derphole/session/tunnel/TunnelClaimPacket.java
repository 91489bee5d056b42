package dev.derphole.session.tunnel;

import dev.derphole.session.claim.Envelope;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;

/**
 * A derptun claim on the relay: the client's credential in clear (the server needs the client id
 * to derive the key that opens the rest), then an ordinary claim envelope sealed under the
 * client's session keys.
 *
 * <pre>
 *   off  len  field
 *     0    1  0x00                envelope marker (never starts a QUIC packet)
 *     1    1  0x01                envelope version
 *     2    1  0x54 ('T')          tunnel claim
 *     3   16  client id
 *    19    8  client expiry       unix seconds
 *    27   32  proof               HMAC-SHA256 by the server's signing secret ({@link Credentials})
 *    59    *  claim envelope      docs/protocol.md §3, kind 1, under the client session's claim key
 * </pre>
 */
record TunnelClaimPacket(byte[] clientId, Instant expires, byte[] proof, byte[] envelope) {
  static final byte KIND = 0x54;
  static final int HEADER_LENGTH = 3 + Credentials.CLIENT_ID_LENGTH + 8 + Credentials.PROOF_LENGTH;

  static byte[] wrap(ClientToken client, byte[] sealedClaim) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH + sealedClaim.length);
    b.put(Envelope.MARKER).put(Envelope.VERSION).put(KIND);
    b.put(client.clientId()).putLong(client.expires().getEpochSecond()).put(client.proof()).put(sealedClaim);
    return b.array();
  }

  /** Empty for anything that is not a tunnel claim; nothing here is authenticated yet. */
  static Optional<TunnelClaimPacket> read(byte[] packet) {
    if (packet.length <= HEADER_LENGTH || packet.length > Envelope.MAX_PACKET || packet[0] != Envelope.MARKER
        || packet[1] != Envelope.VERSION || packet[2] != KIND) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.wrap(packet, 3, packet.length - 3);
    byte[] id = new byte[Credentials.CLIENT_ID_LENGTH];
    b.get(id);
    long seconds = b.getLong();
    byte[] proof = new byte[Credentials.PROOF_LENGTH];
    b.get(proof);
    if (seconds < 0 || seconds > Instant.MAX.getEpochSecond()) {
      return Optional.empty();
    }
    return Optional.of(new TunnelClaimPacket(id, Instant.ofEpochSecond(seconds), proof,
        Arrays.copyOfRange(packet, HEADER_LENGTH, packet.length)));
  }
}
