package dev.derphole.derp.server;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.frame.ClientInfoMessage;
import dev.derphole.derp.frame.DerpProtocol;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.frame.FrameType;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * A blocking socket that speaks DERP (or not) byte by byte: the tests' misbehaving client. Every
 * read waits at most {@code patience}.
 */
final class RawDerpClient implements Closeable {
  final Socket socket;
  final DataInputStream in;
  final OutputStream out;
  private final DerpServer server;
  private final Duration patience;

  RawDerpClient(DerpServer server, Duration patience) throws IOException {
    this.server = server;
    this.patience = patience;
    socket = new Socket();
    try {
      socket.connect(server.localAddress(), (int) patience.toMillis());
      socket.setSoTimeout((int) patience.toMillis());
      in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      out = socket.getOutputStream();
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  void write(byte[] b) throws IOException {
    out.write(b);
    out.flush();
  }

  /** Writes, accepting that the server may already have hung up on us mid-write. */
  void writeTolerantly(byte[] b) {
    try {
      write(b);
    } catch (IOException e) {
      // The reset is itself a close by the server; assertClosedByServer sees it too.
    }
  }

  /** Sends the upgrade, expects 101 and the ServerKey frame; returns the server's key. */
  NodePublicKey upgrade() throws IOException {
    write(upgradeRequest(""));
    String head = readHead();
    assertThat(head).startsWith("HTTP/1.1 101 ")
        .contains("\r\nDerp-Public-Key: " + server.publicKey().untypedHex() + "\r\n");
    return ((Frame.ServerKey) readFrame()).serverKey();
  }

  /** Upgrade, a good ClientInfo (able to answer pings), and the ServerInfo answer: a verified client. */
  void login(NodePrivateKey me) throws Exception {
    login(me, ClientInfoMessage.standard());
  }

  /** Upgrade, ClientInfo saying {@code info}, and the ServerInfo answer: a verified client. */
  void login(NodePrivateKey me, ClientInfoMessage info) throws Exception {
    NodePublicKey serverKey = upgrade();
    write(clientInfo(me, serverKey, info.toJson()));
    Frame.ServerInfo answer = (Frame.ServerInfo) readFrame();
    assertThat(new String(me.open(serverKey, answer.nonceAndBox()), UTF_8)).startsWith("{\"version\":2");
  }

  String readHead() throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("connection closed inside the HTTP head: " + head.toString(US_ASCII));
      }
      head.write(b);
    }
    return head.toString(US_ASCII);
  }

  Frame readFrame() throws IOException {
    return readFrame(in.readUnsignedByte());
  }

  /** Reads the rest of a frame whose type byte was already read. */
  Frame readFrame(int type) throws IOException {
    int length = in.readInt();
    assertThat(length).isBetween(0, DerpProtocol.MAX_CLIENT_FRAME_LENGTH);
    byte[] payload = new byte[length];
    in.readFully(payload);
    return Frame.decode(type, Unpooled.wrappedBuffer(payload));
  }

  Frame readFrameSkipping(FrameType skip) throws IOException {
    Frame f;
    do {
      f = readFrame();
    } while (f.type() == skip);
    return f;
  }

  byte[] readToEnd() throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] chunk = new byte[4096];
    for (int n; (n = in.read(chunk)) >= 0; ) {
      all.write(chunk, 0, n);
    }
    return all.toByteArray();
  }

  /** Reads (and drops) until the server closes: EOF or a reset. Fails if it stays open past the patience. */
  void assertClosedByServer() throws IOException {
    byte[] sink = new byte[4096];
    try {
      while (in.read(sink) >= 0) {
        // drain whatever the server said before hanging up
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server left the connection open for " + patience.toSeconds() + " s", e);
    } catch (SocketException e) {
      // connection reset: the server closed with our bytes still unread, which is a close too
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  static byte[] upgradeRequest(String extraHeaders) {
    return ("GET /derp HTTP/1.1\r\n"
        + "Host: derp.test\r\n"
        + "Connection: Upgrade\r\n"
        + "Upgrade: DERP\r\n"
        + extraHeaders
        + "\r\n").getBytes(US_ASCII);
  }

  /** A ClientInfo frame from {@code me}, its JSON sealed to {@code serverKey}. */
  static byte[] clientInfo(NodePrivateKey me, NodePublicKey serverKey, byte[] json) {
    return bytes(new Frame.ClientInfo(me.publicKey(), me.seal(serverKey, json)));
  }

  static byte[] bytes(Frame frame) {
    ByteBuf out = Unpooled.buffer(frame.encodedLength());
    frame.encode(out);
    if (frame instanceof Frame.PacketFrame p) {
      p.release();
    }
    return ByteBufUtil.getBytes(out);
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
