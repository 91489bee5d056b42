package dev.derphole.transport.quic;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamPriority;
import io.netty.handler.codec.quic.QuicheSendRoom;
import java.util.concurrent.TimeUnit;

/**
 * Ends our half of a QUIC stream with a FIN on its own, as safely as quiche allows. Every such FIN
 * in this project goes through here; where the last bytes are at hand, send the FIN on them
 * instead ({@code new DefaultQuicStreamFrame(data, true)}), which is always safe.
 *
 * <p>Why not just {@code shutdownOutput()}: quiche can drop a zero-length FIN (cloudflare/quiche
 * issue 2525). Once the peer's FIN has been read, a FIN queued after our last data, which is sent
 * but not yet acknowledged, marks the stream complete; when the ACK for that data is processed
 * before the FIN goes out, quiche forgets the stream and the FIN is never sent. The peer then waits
 * for an end that never comes (seen as a hung shared TCP connection). That window is open only
 * while the FIN waits behind a full congestion window or pacing, so we queue it only when quiche
 * would send at least a packet at once ({@link QuicheSendRoom}): the write then emits it in the same
 * call, before any ACK is read. An ACK that arrives while we wait is harmless: the FIN is not
 * queued yet. The stream is made urgent first so no other stream takes that packet. And when the
 * peer's FIN was read already, we first wait twice a round trip plus the ACK delay, so that the ACK
 * for our data has usually been processed: then no ACK is left that could make quiche forget the
 * stream before the FIN goes out.
 *
 * <pre>
 *   shutdown(stream) ── task ──▶ [peer's FIN read: wait 2 × (RTT + 25 ms)]
 *                                      │
 *                                room ≥ 1 packet? ── yes ──▶ shutdownOutput (FIN leaves now)
 *                                      │ no
 *                                      └── retry every 1 ms, at most {@value #MAX_WAIT_MILLIS} ms, then write anyway
 * </pre>
 *
 * What remains: an ACK slower than that wait, together with a lost FIN-only packet, can still
 * cost the FIN (whether quiche resends a lost FIN-only frame is not tested here); only a fix
 * upstream, or a FIN on data, closes that (docs/architecture.md).
 */
public final class StreamFin {
  /** Room for one full datagram: quiche then emits a packet, with the FIN in it, at once. */
  static final long ENOUGH = dev.derphole.transport.path.PeerPath.MAX_DATAGRAM;
  static final long RETRY_MICROS = 1_000;
  /** Longer than our data takes to be acknowledged on any sane path, so waiting this long closes the window. */
  static final long MAX_WAIT_MILLIS = 500;
  /** QUIC's default max_ack_delay: how long the peer may hold back the ACK for our data. */
  static final long ACK_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(25);
  static final long ACK_WAIT_MAX_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final QuicStreamPriority URGENT = new QuicStreamPriority(0, false);

  private StreamFin() {}

  /** Sends our FIN; the future completes like {@code shutdownOutput()}'s. Safe from any thread. */
  public static ChannelFuture shutdown(QuicStreamChannel stream) {
    return shutdown(stream, stream.newPromise());
  }

  /** As {@link #shutdown(QuicStreamChannel)}, completing {@code promise}. */
  public static ChannelFuture shutdown(QuicStreamChannel stream, ChannelPromise promise) {
    // Always a task of its own: inside a read or writability callback Netty defers the send that
    // would carry the FIN, and a FIN written from inside a write completion can cut data.
    stream.eventLoop().execute(() -> {
      if (!stream.isActive() || stream.isOutputShutdown()) {
        stream.shutdownOutput(promise); // completes or fails as Netty decides
        return;
      }
      stream.updatePriority(URGENT);
      if (!stream.isInputShutdown()) {
        attempt(stream, promise, deadline());
        return;
      }
      // The peer's FIN was read: give the ACK for our data time to arrive first.
      stream.parent().collectPathStats(0).addListener(f -> {
        long rtt = f.isSuccess() ? ((QuicConnectionPathStats) f.getNow()).rtt() : 0;
        long wait = Math.min(ACK_WAIT_MAX_NANOS, 2 * (Math.max(rtt, 0) + ACK_DELAY_NANOS));
        stream.eventLoop().schedule(() -> attempt(stream, promise, deadline()), wait, TimeUnit.NANOSECONDS);
      });
    });
    return promise;
  }

  private static long deadline() {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_WAIT_MILLIS);
  }

  private static void attempt(QuicStreamChannel stream, ChannelPromise promise, long deadline) {
    long room = stream.isActive() ? QuicheSendRoom.of(stream) : -1;
    if (room >= 0 && room < ENOUGH && System.nanoTime() - deadline < 0) {
      stream.eventLoop().schedule(() -> attempt(stream, promise, deadline), RETRY_MICROS, TimeUnit.MICROSECONDS);
      return;
    }
    stream.shutdownOutput(promise);
  }
}
