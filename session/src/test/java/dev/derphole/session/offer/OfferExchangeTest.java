package dev.derphole.session.offer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.session.SessionException;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole exchange (header, verdict, body, checksum, verdict) between a sender and a receiver
 * over a loopback TCP connection, as it runs over a QUIC stream; a connection in the middle can
 * corrupt or cut the bytes on purpose.
 */
class OfferExchangeTest {
  static final String VERIFY = "ABCD-EFGH-JKMN";
  private ServerSocket server;
  private Socket senderSide;
  private Socket receiverSide;

  @BeforeEach
  void connect() throws IOException {
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    senderSide = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
    receiverSide = server.accept();
  }

  @AfterEach
  void close() throws IOException {
    senderSide.close();
    receiverSide.close();
    server.close();
  }

  /** Closing sends FIN (half-close), like a QUIC stream's shutdownOutput. */
  static OutputStream halfClosing(Socket s) throws IOException {
    return new FilterOutputStream(s.getOutputStream()) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
        s.shutdownOutput();
      }
    };
  }

  private CompletableFuture<Verdict> send(OfferHeader header, OfferSender.Body body) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return OfferSender.send(header, body, senderSide.getInputStream(), halfClosing(senderSide), n -> { });
      } catch (SessionException | IOException e) {
        throw new RuntimeException(e);
      }
    });
  }

  private static Throwable failure(CompletableFuture<?> f) throws Exception {
    try {
      f.get(30, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (ExecutionException e) {
      return e.getCause().getCause() != null ? e.getCause().getCause() : e.getCause();
    }
  }

  @Test
  void aFileArrivesVerifiedAndTheSenderHearsTheReceiversNote() throws Exception {
    byte[] data = new byte[3 << 20];
    new Random(3).nextBytes(data);
    CompletableFuture<Verdict> sent = send(new OfferHeader(OfferKind.FILE, "f", data.length, 1, data.length, VERIFY),
        out -> out.write(data));
    OfferReceiver r = new OfferReceiver(receiverSide.getInputStream(), halfClosing(receiverSide));
    OfferHeader h = r.readHeader(VERIFY);
    assertThat(h.name()).isEqualTo("f");
    r.accept();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    long[] progress = new long[1];
    r.receiveBody(in -> in.transferTo(got), n -> progress[0] = n);
    r.confirm("saved as f");
    assertThat(got.toByteArray()).isEqualTo(data);
    assertThat(progress[0]).isEqualTo(data.length);
    assertThat(sent.get(30, TimeUnit.SECONDS).reason()).isEqualTo("saved as f");
  }

  @Test
  void aRefusalReachesTheSenderBeforeAnyBody() throws Exception {
    boolean[] bodyWritten = new boolean[1];
    CompletableFuture<Verdict> sent = send(new OfferHeader(OfferKind.FILE, "f", 10, 1, 10, VERIFY),
        out -> bodyWritten[0] = true);
    OfferReceiver r = new OfferReceiver(receiverSide.getInputStream(), halfClosing(receiverSide));
    r.readHeader(VERIFY);
    OfferRefusedException ours = r.refuse("\"f\" already exists", "\"./f\" already exists; not replacing it");
    assertThat(failure(sent)).hasMessage("the receiver declined: \"f\" already exists")
        .isInstanceOf(PeerVerdictException.class); // shown as is, ahead of the session's close reason
    // and the receiver's own user reads its own words, also ahead of the sender's close reason
    assertThat(ours).hasMessage("\"./f\" already exists; not replacing it");
    assertThat(bodyWritten[0]).isFalse();
  }

  @Test
  void aDifferentVerificationCodeIsAMismatch() throws Exception {
    send(new OfferHeader(OfferKind.TEXT, "", 1, 0, 1, "OTHR-CODE-XXXX"), out -> out.write('x'));
    OfferReceiver r = new OfferReceiver(receiverSide.getInputStream(), halfClosing(receiverSide));
    assertThatThrownBy(() -> r.readHeader(VERIFY)).hasMessage(
        "verification mismatch: the sender shows \"OTHR-CODE-XXXX\", this side \"ABCD-EFGH-JKMN\"");
  }

  @Test
  void aBodyChangedOnTheWayFailsTheChecksum() throws Exception {
    // A sender whose bytes are altered after the checksum was taken: the body is 1000 'a's, but the
    // trailer is the checksum of 1000 'b's, as if a byte had flipped on the wire.
    OfferHeader header = new OfferHeader(OfferKind.FILE, "f", 1000, 1, 1000, VERIFY);
    OutputStream out = halfClosing(senderSide);
    out.write(header.encode());
    OfferReceiver r = new OfferReceiver(receiverSide.getInputStream(), halfClosing(receiverSide));
    r.readHeader(VERIFY);
    r.accept();
    out.write("a".repeat(1000).getBytes());
    out.write(Sha256.create().digest("b".repeat(1000).getBytes()));
    out.close();
    assertThatThrownBy(() -> r.receiveBody(InputStream::readAllBytes, n -> { }))
        .hasMessage("the received data does not match the sender's SHA-256 checksum; nothing was kept");
  }

  @Test
  void aBodyCutShortSaysHowMuchArrived() throws Exception {
    OfferHeader header = new OfferHeader(OfferKind.FILE, "f", 1000, 1, 1000, VERIFY);
    OutputStream out = halfClosing(senderSide);
    out.write(header.encode());
    OfferReceiver r = new OfferReceiver(receiverSide.getInputStream(), halfClosing(receiverSide));
    r.readHeader(VERIFY);
    r.accept();
    out.write(new byte[400]);
    out.close();
    assertThatThrownBy(() -> r.receiveBody(InputStream::readAllBytes, n -> { }))
        .hasMessage("the transfer ended early: received 400 of 1000 bytes");
  }

  @Test
  void aSenderWhoseBodyIsNotTheAnnouncedSizeFails() throws Exception {
    CompletableFuture<Verdict> sent = send(new OfferHeader(OfferKind.FILE, "f", 10, 1, 10, VERIFY),
        out -> out.write(new byte[4]));
    OfferReceiver r = new OfferReceiver(receiverSide.getInputStream(), halfClosing(receiverSide));
    r.readHeader(VERIFY);
    r.accept();
    assertThat(failure(sent)).hasMessageStartingWith("sent 4 bytes, but announced 10");
  }
}
