/**
 * Node keys and the NaCl box that DERP uses to prove a client holds its key.
 *
 * <p>Keys are X25519. A private key is 32 random bytes clamped per RFC 7748
 * ({@code b[0] &= 248; b[31] = (b[31] & 127) | 64}); its public key is the base-point multiple.
 * Text forms are a prefix plus 64 lowercase hex digits: {@code nodekey:} for a {@link
 * dev.derphole.derp.key.NodePublicKey}, {@code privkey:} for a {@link
 * dev.derphole.derp.key.NodePrivateKey}. The {@code Derp-Public-Key} header carries the bare hex.
 *
 * <p>The box is Go's {@code x/crypto/nacl/box} (libsodium {@code crypto_box_easy}):
 *
 * <pre>
 *   k      = HSalsa20(X25519(mySk, peerPk), 16 zero bytes)     crypto_box_beforenm, a SharedKey
 *   stream = XSalsa20(k, nonce24)
 *   polyKey = stream[0, 32)                                    one-time Poly1305 key (r ‖ s)
 *   ct     = message XOR stream[32, 32 + len)
 *
 *   box (SharedKey.seal)             SealTo output (NodePrivateKey.seal)
 *   +---------+----------------+     +-----------+---------+----------------+
 *   | tag(16) | ciphertext(n)  |     | nonce(24) | tag(16) | ciphertext(n)  |
 *   +---------+----------------+     +-----------+---------+----------------+
 *   tag = Poly1305(polyKey, ct)
 * </pre>
 *
 * <p>In DERP, ClientInfo is {@code clientPk(32) ‖ nonce(24) ‖ box(clientSk → serverPk, JSON)} and
 * ServerInfo is {@code nonce(24) ‖ box(serverSk → clientPk, JSON)}. Nonces are fresh random bytes;
 * there is no replay state. Opening checks the tag in constant time before decrypting anything.
 */
package dev.derphole.derp.key;
