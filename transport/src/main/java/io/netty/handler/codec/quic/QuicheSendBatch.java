package io.netty.handler.codec.quic;

/**
 * Lets the writes of many streams of one connection, made in one turn of its event loop, leave in
 * as few packets as quiche can pack them into. Netty's codec runs quiche's send, and a socket
 * write, after every stream write, except while it is itself delivering received packets: then it
 * marks the connection and sends once, when the read is complete. {@link #deferSend} puts the
 * connection in that same state for the rest of the loop's turn and queues the send behind the
 * I/O the loop is handling, so that requests read from several TCP connections in one turn can
 * share datagrams (what that saves: docs/benchmarks.md, "share / open").
 *
 * <p>Both calls are Netty's package-private ones the codec uses for its own read loop; if an
 * upgrade moves them, this class stops compiling.
 */
public final class QuicheSendBatch {
  private QuicheSendBatch() {}

  /**
   * Holds back quiche's send on {@code stream}'s connection until the tasks of this loop turn run.
   * Call on the stream's event loop, before writing; elsewhere, or for a channel that is not
   * Netty's quiche channel, it does nothing and the write sends at once as usual. Calls while a
   * send is already held back (by this class or by the codec's read) add nothing.
   */
  public static void deferSend(QuicStreamChannel stream) {
    if (stream.parent() instanceof QuicheQuicChannel quic
        && quic.eventLoop().inEventLoop()
        && quic.isOpen()
        && quic.markInFireChannelReadCompleteQueue()) {
      quic.eventLoop().execute(quic::recvComplete);
    }
  }
}
