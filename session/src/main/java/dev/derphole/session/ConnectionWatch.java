package dev.derphole.session;

import dev.derphole.session.text.PeerText;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionCloseEvent;
import java.nio.charset.StandardCharsets;

/**
 * Watches a QUIC connection for the reason it ends, so the user reads "the other side was
 * interrupted" rather than a bare "closed"; and tells the peer path which connection's accepted
 * packets are signs of life.
 */
@ChannelHandler.Sharable
final class ConnectionWatch extends ChannelInboundHandlerAdapter {
  /** Application error codes we close with. */
  static final int CLOSE_DONE = 0;
  static final int CLOSE_INTERRUPTED = 1;
  static final int CLOSE_FAILED = 2;

  private final dev.derphole.transport.path.PeerPath path;
  private volatile String reason;

  ConnectionWatch(dev.derphole.transport.path.PeerPath path) {
    this.path = path;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel() instanceof QuicChannel q) {
      path.quic(q);
    }
  }

  String reason() {
    return reason;
  }

  void localReason(String why) {
    if (reason == null) {
      reason = why;
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof QuicConnectionCloseEvent e && reason == null) {
      byte[] raw;
      try {
        raw = e.reason();
      } catch (NullPointerException noReason) { // Netty 4.2.18 throws when the peer sent no reason
        raw = new byte[0];
      }
      String text = PeerText.printable(new String(raw, StandardCharsets.UTF_8));
      if (e.isApplicationClose()) {
        reason = switch (e.error()) {
          case CLOSE_DONE -> null;
          // The same words whether the QUIC close or the sealed abort (SessionCore) arrives first.
          case CLOSE_INTERRUPTED -> "the other side was interrupted"
              + (text.isEmpty() || text.equals("interrupted") ? "" : " (" + text + ")");
          default -> "the other side failed" + (text.isEmpty() ? "" : ": " + text);
        };
      } else if (e.isTlsError()) {
        reason = "the other side's TLS key is not the one this session expects";
      }
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (reason == null && ctx.channel() instanceof QuicChannel q && q.isTimedOut()) {
      reason = "the other side stopped answering (no packets for "
          + dev.derphole.transport.quic.QuicTransport.IDLE_TIMEOUT.toSeconds() + " s)";
    }
    ctx.fireChannelInactive();
  }
}
