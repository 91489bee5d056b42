package dev.derphole.session;

import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.rendezvous.SessionLink;
import dev.derphole.transport.path.PeerPath;
import dev.derphole.transport.quic.QuicTransport;
import dev.derphole.transport.quic.TlsIdentity;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What both ends of a session own: the DERP link, the UDP socket with the peer path, the TLS
 * identity, and the QUIC connection once there is one. Closing it closes all of them.
 */
final class SessionCore implements AutoCloseable {
  /** After PeerGone, how long the peer has to show life before we give up on it. */
  static final long PEER_GONE_GRACE_SECONDS = 5;

  final SessionOptions options;
  final NodePrivateKey derpKey = NodePrivateKey.generate();
  final TlsIdentity tls = TlsIdentity.generate();
  final PeerPath path = new PeerPath();
  final ConnectionWatch watch = new ConnectionWatch();
  final SessionLink link;
  final DatagramChannel udp;
  volatile QuicChannel quic;
  private volatile ScheduledFuture<?> peerGoneCheck;

  SessionCore(SessionOptions options, DerpEndpoint relay) throws SessionException, InterruptedException {
    this.options = options;
    // One event loop for the DERP connection and the QUIC socket: a relayed packet then crosses
    // from one to the other without a task hand-off between threads.
    io.netty.channel.EventLoop loop = options.group().next();
    this.link = new SessionLink(relay, derpKey, loop);
    try {
      link.start(SessionOptions.RELAY_TIMEOUT);
    } catch (IOException e) {
      link.close();
      throw new SessionException("cannot reach the relay: " + e.getMessage(), e);
    }
    link.onConnectionEvent(e -> options.reporter().event(e.substring(0, e.indexOf(' ')), e.substring(e.indexOf(' ') + 1)));
    try {
      udp = QuicTransport.bind(loop, new InetSocketAddress(0), path);
    } catch (IOException e) {
      link.close();
      throw new SessionException(e.getMessage(), e);
    }
  }

  /** Routes the peer's packets to the path, and from now on watches for it leaving the relay. */
  void attach(NodePublicKey peer) {
    link.attach(peer, path);
    link.onPeerGone((k, reason) -> {
      long before = path.packetsIn();
      peerGoneCheck = udp.eventLoop().schedule(() -> {
        if (path.packetsIn() == before && quic != null) {
          watch.localReason("the other side disconnected from the relay");
          quic.close(true, ConnectionWatch.CLOSE_FAILED, Unpooled.EMPTY_BUFFER);
        }
      }, PEER_GONE_GRACE_SECONDS, TimeUnit.SECONDS);
    });
  }

  /** Why the connection ended, for the user; {@code fallback} when we know nothing better. */
  String reason(String fallback) {
    String r = watch.reason();
    return r != null ? r : fallback;
  }

  /** Ends the connection telling the other side why: Ctrl-C or a local failure. */
  void abort(int code, String why) {
    QuicChannel q = quic;
    if (q != null && q.isActive()) {
      q.close(true, code, Unpooled.copiedBuffer(why, StandardCharsets.UTF_8)).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() {
    QuicChannel q = quic;
    if (q != null && q.isActive()) {
      q.close(true, ConnectionWatch.CLOSE_DONE, Unpooled.EMPTY_BUFFER).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
    ScheduledFuture<?> f = peerGoneCheck;
    if (f != null) {
      f.cancel(false);
    }
    udp.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    link.close();
  }
}
