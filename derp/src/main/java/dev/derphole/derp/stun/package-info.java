/**
 * STUN (RFC 5389 subset) as Tailscale uses it, for learning the address a NAT maps a UDP socket to.
 *
 * <p>A node sends a 40-byte binding request (SOFTWARE "tailnode" + FINGERPRINT) to a STUN server,
 * usually on UDP 3478 beside a DERP server; the server answers with a binding success response
 * whose one XOR-MAPPED-ADDRESS attribute is the source address it saw.
 *
 * <ul>
 *   <li>{@link dev.derphole.derp.stun.Stun}: the codec, with the byte layouts.
 *   <li>{@link dev.derphole.derp.stun.StunServer}: a Netty UDP server that answers any well-formed
 *       binding request.
 *   <li>{@link dev.derphole.derp.stun.StunClient}: a blocking query over a caller's
 *       {@link java.net.DatagramSocket}.
 * </ul>
 */
package dev.derphole.derp.stun;
