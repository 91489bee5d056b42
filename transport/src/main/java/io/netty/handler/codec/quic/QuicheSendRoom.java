package io.netty.handler.codec.quic;

import java.lang.reflect.Field;

/**
 * How much quiche would send for one stream if asked now, read from quiche itself. Netty keeps both
 * inputs package-private (its public {@code bytesBeforeUnwritable()} is a copy taken at the last
 * write and can be a whole congestion window stale). Used only by
 * {@code dev.derphole.transport.quic.StreamFin}; if a Netty upgrade moves either, this class stops
 * compiling or {@code StreamFinTest} fails.
 */
public final class QuicheSendRoom {
  private static final Field CONNECTION = connectionField();

  private QuicheSendRoom() {}

  /**
   * The smaller of the stream's send capacity (its flow-control credit and the connection's
   * congestion window and credit) and the connection's send quantum (what Netty lets one send call
   * emit; below one datagram it sends nothing now and retries after the socket write). Negative when
   * quiche no longer knows the stream, the connection is gone, or this is no quiche channel. Call
   * on the stream's event loop.
   */
  public static long of(QuicStreamChannel stream) {
    if (!(stream.parent() instanceof QuicheQuicChannel quiche)) {
      return -1;
    }
    QuicheQuicConnection conn = connection(quiche);
    if (conn == null || conn.isClosed()) {
      return -1;
    }
    long capacity = quiche.streamCapacity(stream.streamId());
    if (capacity < 0) {
      return capacity;
    }
    return Math.min(capacity, Quiche.quiche_conn_send_quantum(conn.address()));
  }

  /** The channel's quiche connection, or null before it exists. Shared with {@link QuicheStreamCredit}. */
  static QuicheQuicConnection connection(QuicheQuicChannel quiche) {
    try {
      return (QuicheQuicConnection) CONNECTION.get(quiche);
    } catch (IllegalAccessException e) {
      return null;
    }
  }

  private static Field connectionField() {
    try {
      Field f = QuicheQuicChannel.class.getDeclaredField("connection");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError("Netty's QUIC codec changed: " + e);
    }
  }
}
