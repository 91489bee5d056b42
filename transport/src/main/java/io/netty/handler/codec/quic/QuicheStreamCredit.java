package io.netty.handler.codec.quic;

/**
 * How many more bidirectional streams the peer lets us open, read from quiche itself. Netty's
 * public {@link QuicChannel#peerAllowedStreams} is a count it takes down with each stream and only
 * refreshes from quiche, once it reached zero, when the next packet comes in: in between it says
 * zero although the peer granted more. Used through {@code dev.derphole.transport.quic.QuicConnections}.
 */
public final class QuicheStreamCredit {
  private QuicheStreamCredit() {}

  /**
   * Streams {@code quic} may still open now; falls back to Netty's count for a channel that is not
   * Netty's quiche channel, 0 once the connection is gone. Call on the channel's event loop.
   */
  public static long bidiLeft(QuicChannel quic) {
    if (!(quic instanceof QuicheQuicChannel quiche)) {
      return quic.peerAllowedStreams(QuicStreamType.BIDIRECTIONAL);
    }
    QuicheQuicConnection conn = QuicheSendRoom.connection(quiche);
    if (conn == null || conn.isClosed()) {
      return 0;
    }
    return Quiche.quiche_conn_peer_streams_left_bidi(conn.address());
  }
}
