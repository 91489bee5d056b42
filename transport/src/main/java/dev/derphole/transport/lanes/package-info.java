/**
 * Direct lanes ({@code --parallel}, issue #34): one stream's bytes striped across several lanes
 * (each its own UDP flow carrying its own QUIC connection: {@code session.DirectLanes},
 * {@code session.stream.StripedSender}/{@code StripedReceiver}) and put back in order on the other
 * side with a hard bound on the bytes held out of order. Independent of QUIC and sockets: a lane is
 * a bounded sink of {@link dev.derphole.transport.lanes.Chunk} frames.
 *
 * <pre>
 *   bytes ──▶ Striper ──▶ lane 0 ─┐                 ┌─▶ Reassembler ──▶ bytes, in order
 *             (window)   lane 1 ──┼── (the network) ─┤    (bound; pauses lanes
 *                        lane 2 ─┘                  └─    that are too far ahead)
 *             ◀────────── delivered offset (acknowledgement) ──────────┘
 * </pre>
 */
package dev.derphole.transport.lanes;
