package dev.derphole.transport.portmap;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A PCP server written here from RFC 6887 (not the project's codec): an IPv6 firewall that opens
 * pinholes and translates nothing, so a MAP is answered with the client's own address and
 * internal port (§11.3, a device that does not rewrite), for the lifetime asked, at most
 * {@link #maxLifetimeSeconds}; a lifetime of 0 (a delete) is answered with 0. Every request is
 * kept, as sent, for the test to read.
 */
final class Rfc6887Firewall implements AutoCloseable {
  /** RFC 6887 §7.1/§11.1 offsets in a MAP request. */
  static final int LIFETIME = 4;
  static final int CLIENT_IP = 8;
  static final int NONCE = 24;
  static final int PROTOCOL = 36;
  static final int INTERNAL_PORT = 40;
  static final int SUGGESTED_PORT = 42;
  static final int SUGGESTED_IP = 44;

  private final DatagramSocket socket;
  private final Thread thread;
  private final BlockingQueue<byte[]> requests = new LinkedBlockingQueue<>(64);
  volatile long maxLifetimeSeconds = 120;

  Rfc6887Firewall(InetSocketAddress bind) throws SocketException {
    socket = new DatagramSocket(bind);
    thread = new Thread(this::serve, "rfc6887-firewall");
    thread.setDaemon(true);
    thread.start();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  /** The next request, as sent; fails after 10 s without one. */
  byte[] next() throws InterruptedException {
    byte[] request = requests.poll(10, TimeUnit.SECONDS);
    if (request == null) {
      throw new AssertionError("no PCP request within 10 s");
    }
    return request;
  }

  static long lifetime(byte[] request) {
    return ByteBuffer.wrap(request, LIFETIME, 4).getInt() & 0xffffffffL;
  }

  static byte[] nonce(byte[] request) {
    return Arrays.copyOfRange(request, NONCE, NONCE + 12);
  }

  private void serve() {
    byte[] buf = new byte[1100];
    while (!socket.isClosed()) {
      DatagramPacket in = new DatagramPacket(buf, buf.length);
      try {
        socket.receive(in);
      } catch (IOException closed) {
        return;
      }
      byte[] req = Arrays.copyOf(in.getData(), in.getLength());
      if (req.length != 60 || req[0] != 2 || req[1] != 1) {
        continue; // only MAP requests without options are served here
      }
      requests.offer(req);
      long lifetime = Math.min(lifetime(req), maxLifetimeSeconds);
      ByteBuffer answer = ByteBuffer.allocate(60);
      answer.put((byte) 2).put((byte) 0x81).put((byte) 0).put((byte) 0); // version, R|MAP, reserved, SUCCESS
      answer.putInt((int) lifetime).putInt(1000).put(new byte[12]);      // lifetime, epoch, reserved
      answer.put(req, NONCE, 12).put(req[PROTOCOL]).put(new byte[3]);     // nonce, protocol echoed
      answer.put(req, INTERNAL_PORT, 2).put(req, INTERNAL_PORT, 2);       // internal port, the same outside
      byte[] client = in.getAddress().getAddress();                       // the client's own address,
      if (client.length == 4) {                                           // IPv4 as ::ffff:a.b.c.d (§5)
        answer.put(new byte[10]).put((byte) 0xff).put((byte) 0xff);
      }
      answer.put(client);
      try {
        socket.send(new DatagramPacket(answer.array(), 60, in.getSocketAddress()));
      } catch (IOException closed) {
        return;
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    socket.close();
    thread.join(5000);
  }
}
