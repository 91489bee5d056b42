/** Tailscale-compatible DERP: node keys, NaCl box, frames, client, server, DERP map, STUN. */
package dev.derphole.derp;
