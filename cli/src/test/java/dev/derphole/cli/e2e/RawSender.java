package dev.derphole.cli.e2e;

import dev.derphole.derp.map.DerpMapException;
import dev.derphole.derp.map.DerpMapSource;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.Reporter;
import dev.derphole.session.SessionException;
import dev.derphole.session.SessionOptions;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.Verdict;
import dev.derphole.session.stream.StreamPort;
import dev.derphole.session.token.Capability;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A hostile {@code derphole send} in the test JVM: a real issued OFFER session on the test's relay
 * (real token, real QUIC), whose stream carries whatever header and body the test writes — a tar
 * with {@code ../x} in it, a body that stops short, a checksum that lies.
 */
final class RawSender implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final IssuedSession session;
  private StreamPort port;

  RawSender(Relay relay) throws Exception {
    SessionOptions options = options(relay, group);
    session = IssuedSession.open(Capability.OFFER, options, new ChannelInitializer<QuicStreamChannel>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        ch.close();
      }
    });
  }

  /** Session options for a test-JVM peer on {@code relay}: relay only, no reporter. */
  static SessionOptions options(Relay relay, EventLoopGroup group) {
    return new SessionOptions(group, Reporter.SILENT, () -> {
      try {
        return DerpMapSource.load(relay.mapFile().toString(), Duration.ofSeconds(5));
      } catch (DerpMapException e) {
        throw new SessionException(e.getMessage(), e);
      }
    }, true, true, false, SessionOptions.DEFAULT_CLAIM_TIMEOUT);
  }

  String token() {
    return session.token().encode();
  }

  String verify() {
    return session.token().verificationCode();
  }

  /** Waits for the receiver, opens the stream, sends {@code header}; returns the receiver's answer. */
  Verdict offer(OfferHeader header) throws Exception {
    var quic = session.awaitConnection();
    port = new StreamPort();
    quic.createStream(QuicStreamType.BIDIRECTIONAL, port).get(30, TimeUnit.SECONDS);
    port.out().write(header.encode());
    return Verdict.readFrom(port.in(), "after the offer");
  }

  /** Body bytes as they are. */
  void write(byte[] bytes) throws IOException {
    port.out().write(bytes);
  }

  /** The body's true checksum, FIN, and the receiver's final answer. */
  Verdict finish(byte[] body) throws Exception {
    port.out().write(MessageDigest.getInstance("SHA-256").digest(body));
    port.out().close();
    return Verdict.readFrom(port.in(), "after the transfer");
  }

  /** Ends the session the way a failing sender does, with {@code why} as its words: sealed abort, then QUIC close. */
  void fail(String why) {
    session.fail(why);
  }

  /** Closes QUIC alone (no sealed abort beside it) with application error 2 and {@code why} as the reason. */
  void closeQuic(String why) throws Exception {
    session.awaitConnection().close(true, 2, Unpooled.copiedBuffer(why, StandardCharsets.UTF_8))
        .await(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    session.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
  }
}
