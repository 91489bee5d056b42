/**
 * Forwarding TCP connections over a session's QUIC connection, one stream per connection:
 * {@link dev.derphole.session.share.TcpStreamBridge} joins a TCP channel with a QUIC stream,
 * {@link dev.derphole.session.share.OpenListener} turns accepted connections into streams, and
 * {@link dev.derphole.session.share.ShareServer} turns streams into connections to a target. Used
 * by {@code derphole share/open} and {@code derptun}. Wire format: {@link
 * dev.derphole.session.share.StreamHeader} and docs/protocol.md.
 */
package dev.derphole.session.share;
