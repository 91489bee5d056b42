/**
 * Tailscale-compatible DERP: node keys, NaCl box, frames, client, server, DERP map, STUN.
 *
 * <p>Two helper packages here serve every module, not DERP alone: {@link
 * dev.derphole.derp.net.IpLiteral} (IP text without DNS) and {@link dev.derphole.derp.io.EventLoops}
 * (epoll, kqueue or NIO loops and their channel classes), with {@link dev.derphole.derp.io.Failures}
 * (an exception in the words a user reads). They live in {@code derp} because it is the bottom
 * module: the DERP client and server need them themselves (map fields are IP literals, relays run
 * on these loops), and every other module already depends on {@code derp}, so no module gains a
 * dependency it lacked. Moving them up to {@code transport} would make {@code derp} depend upward
 * and break its use on its own; a module below {@code derp} for three classes would cost more
 * (another artifact, another jar in every bundle) than it explains.
 */
package dev.derphole.derp;
