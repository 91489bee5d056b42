package dev.derphole.session.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.LoopbackRelay;
import dev.derphole.session.Reporter;
import dev.derphole.session.SessionOptions;
import dev.derphole.session.offer.DirectoryTar;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.OfferReceiver;
import dev.derphole.session.offer.OfferSender;
import dev.derphole.session.offer.SafeExtractor;
import dev.derphole.session.offer.Verdict;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The offer exchange over a real session (issuer and claimant in one JVM, QUIC through a DERP
 * server on loopback), with {@link StreamPort} adapting the QUIC stream on both ends: more data
 * than the port buffers arrives intact, and a peer that closes without FIN is an error, not a
 * quiet end of data.
 */
class StreamPortOverRelayTest {
  @RegisterExtension final LoopbackRelay relay = LoopbackRelay.perTest();
  @TempDir Path dir;

  private SessionOptions options() {
    return relay.options(Reporter.SILENT, true, Duration.ofSeconds(5));
  }

  private static ChannelInitializer<QuicStreamChannel> first(StreamPort port) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        ch.pipeline().addLast(port);
      }
    };
  }

  @Test
  void aDirectoryLargerThanThePortBuffersArrivesIntact() throws Exception {
    Path src = Files.createDirectories(dir.resolve("src"));
    Files.createDirectories(src.resolve("sub"));
    byte[] big = new byte[3 * StreamPort.HIGH_WATER];
    new Random(1).nextBytes(big);
    Files.write(src.resolve("sub/big.bin"), big);
    Files.writeString(src.resolve("small.txt"), "small");
    DirectoryTar tar = DirectoryTar.plan(dir.resolve("src"));
    Path into = Files.createDirectories(dir.resolve("dst"));
    try (IssuedSession sender = IssuedSession.open(Capability.OFFER, options(), first(new StreamPort()))) {
      Token token = Token.decodeFor(sender.token().encode(), Capability.OFFER, Instant.now());
      CompletableFuture<OfferHeader> received = CompletableFuture.supplyAsync(() -> {
        StreamPort port = new StreamPort();
        try (ClaimedSession receiver = ClaimedSession.claim(token, options(), first(port))) {
          OfferReceiver r = new OfferReceiver(port.in(), port.out());
          OfferHeader h = r.readHeader(token.verificationCode());
          r.accept();
          r.receiveBody(body -> SafeExtractor.extract(body, into), n -> { });
          r.confirm("ok");
          receiver.connection().closeFuture().await(5, TimeUnit.SECONDS);
          return h;
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      StreamPort port = new StreamPort();
      sender.awaitConnection().createStream(QuicStreamType.BIDIRECTIONAL, port).get(30, TimeUnit.SECONDS);
      OfferHeader header = new OfferHeader(OfferKind.DIRECTORY, "src", tar.size(), tar.files(), tar.contentBytes(),
          sender.token().verificationCode());
      Verdict done = OfferSender.send(header, tar::writeTo, port.in(), port.out(), n -> { });
      assertThat(done.reason()).isEqualTo("ok");
      assertThat(received.get(60, TimeUnit.SECONDS).files()).isEqualTo(2);
    }
    assertThat(Files.readAllBytes(into.resolve("sub/big.bin"))).isEqualTo(big);
    assertThat(into.resolve("small.txt")).hasContent("small");
  }

  @Test
  void aPeerThatClosesWithoutFinIsAnErrorNotTheEndOfTheData() throws Exception {
    try (IssuedSession sender = IssuedSession.open(Capability.OFFER, options(), first(new StreamPort()))) {
      Token token = Token.decodeFor(sender.token().encode(), Capability.OFFER, Instant.now());
      StreamPort receiving = new StreamPort();
      CompletableFuture<ClaimedSession> claimed = CompletableFuture.supplyAsync(() -> {
        try {
          return ClaimedSession.claim(token, options(), first(receiving));
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      StreamPort port = new StreamPort();
      sender.awaitConnection().createStream(QuicStreamType.BIDIRECTIONAL, port).get(30, TimeUnit.SECONDS);
      port.out().write(new byte[100_000]);
      try (ClaimedSession receiver = claimed.get(60, TimeUnit.SECONDS)) {
        InputStream in = receiving.in();
        assertThat(in.readNBytes(100_000)).hasSize(100_000);
        sender.fail("gave up");
        assertThatThrownBy(in::read).isInstanceOf(IOException.class);
        assertThat(receiver.reason("?")).isEqualTo("the other side failed: gave up");
      }
    }
  }
}
