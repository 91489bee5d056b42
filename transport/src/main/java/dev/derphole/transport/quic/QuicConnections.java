package dev.derphole.transport.quic;

import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicheSendBatch;
import io.netty.handler.codec.quic.QuicheStreamCredit;

/**
 * What the products need from a QUIC connection beyond Netty's public API. The calls reach into
 * Netty's package (the {@code Quiche*} classes there); only this package uses them, so an
 * upgrade that moves them breaks here and nowhere else.
 */
public final class QuicConnections {
  private QuicConnections() {}

  /**
   * Holds back quiche's send on {@code stream}'s connection until the tasks of this loop turn run,
   * so that writes of several streams in one turn share packets ({@link QuicheSendBatch}). Call on
   * the stream's event loop, before writing; elsewhere it does nothing.
   */
  public static void deferSend(QuicStreamChannel stream) {
    QuicheSendBatch.deferSend(stream);
  }

  /**
   * How many more bidirectional streams the peer lets us open now, read from quiche itself
   * ({@link QuicheStreamCredit}); 0 once the connection is gone. Call on the channel's event loop.
   */
  public static long bidiStreamsLeft(QuicChannel quic) {
    return QuicheStreamCredit.bidiLeft(quic);
  }
}
