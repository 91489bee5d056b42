package dev.derphole.session.tunnel;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What a server token's signing secret vouches for, computed the same way when a client token is
 * minted and when its claim arrives, so the server keeps no list of clients:
 *
 * <pre>
 *   bearer(client)  = HMAC-SHA256(signing, "derptun/v1 client bearer" ‖ tunnel id ‖ client id)
 *   proof(client)   = HMAC-SHA256(signing, "derptun/v1 client proof"  ‖ tunnel id ‖ client id ‖ expires)
 *   shared client id = HMAC-SHA256(signing, "derptun/v1 shared client" ‖ tunnel id), first 16 bytes
 * </pre>
 *
 * The bearer is the root of the client's session keys (it seals the claim); the proof binds the
 * client's expiry (8 bytes, unix seconds), so a client that edits its own expiry is refused.
 */
final class Credentials {
  static final int CLIENT_ID_LENGTH = 16;
  static final int PROOF_LENGTH = 32;

  private Credentials() {}

  static byte[] bearer(byte[] signing, byte[] tunnelId, byte[] clientId) {
    return hmac(signing, "derptun/v1 client bearer", tunnelId, clientId);
  }

  static byte[] proof(byte[] signing, byte[] tunnelId, byte[] clientId, Instant expires) {
    return hmac(signing, "derptun/v1 client proof", tunnelId, clientId,
        ByteBuffer.allocate(8).putLong(expires.getEpochSecond()).array());
  }

  static byte[] sharedClientId(byte[] signing, byte[] tunnelId) {
    return Arrays.copyOf(hmac(signing, "derptun/v1 shared client", tunnelId), CLIENT_ID_LENGTH);
  }

  private static byte[] hmac(byte[] key, String label, byte[]... parts) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(label.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      for (byte[] p : parts) {
        mac.update(p);
      }
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 unavailable", e);
    }
  }
}
