/** The peer path (datagrams to one peer through DERP or direct UDP) and QUIC running over it. */
package dev.derphole.transport;
