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
 * <p>Why not just {@code shutdownOutput()}: quiche can drop a zero-length FIN when the ACK for our
 * last data is processed before the FIN leaves (cloudflare/quiche issue 2525; the story, and what
 * {@code StreamFinTest} proves, are in docs/architecture.md). So the stream is made urgent, the
 * FIN is queued only when quiche would send at least a packet at once ({@link QuicheSendRoom}), so
 * the same call emits it, and when the peer's FIN was read already we first wait twice a round
 * trip plus the ACK delay, so that no ACK for our data is left to arrive.
 *
 * <pre>
 *   shutdown(stream) ── task ──▶ [peer's FIN read: wait 2 × (RTT + 25 ms)]
 *                                      │
 *                                room ≥ 1 packet? ── yes ──▶ shutdownOutput (FIN leaves now)
 *                                      │ no
 *                                      └── retry every 1 ms, at most {@value #MAX_WAIT_MILLIS} ms, then write anyway
 * </pre>
 *
 * What remains (an ACK slower than that wait with the FIN's packet lost) is in docs/architecture.md.
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
