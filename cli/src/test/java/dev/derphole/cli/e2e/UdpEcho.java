package dev.derphole.cli.e2e;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A UDP echo service on loopback for the derptun UDP tests: every datagram goes back to the
 * address it came from, unchanged, except {@code BIG n}, answered with {@code n} bytes of 'b'. It
 * remembers the addresses it heard from (one per flow, if {@code serve} gives each flow a socket).
 */
final class UdpEcho implements AutoCloseable {
  final DatagramSocket socket;
  final Set<SocketAddress> senders = ConcurrentHashMap.newKeySet();
  private final Thread thread;

  UdpEcho() throws IOException {
    socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    thread = new Thread(this::run, "udp-echo");
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    return socket.getLocalPort();
  }

  private void run() {
    byte[] buf = new byte[65536];
    while (!socket.isClosed()) {
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      try {
        socket.receive(p);
        senders.add(p.getSocketAddress());
        String text = new String(p.getData(), 0, Math.min(p.getLength(), 16), StandardCharsets.US_ASCII);
        byte[] reply = text.startsWith("BIG ")
            ? filled(Integer.parseInt(new String(p.getData(), 4, p.getLength() - 4, StandardCharsets.US_ASCII)))
            : Arrays.copyOf(p.getData(), p.getLength());
        socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
      } catch (IOException e) {
        // closed, or a send that failed: carry on until closed
      }
    }
  }

  private static byte[] filled(int n) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) 'b');
    return b;
  }

  @Override
  public void close() throws InterruptedException {
    socket.close();
    thread.join(5000);
  }

  /** A test's client socket: sends and waits for the answer, a bounded time. */
  static final class Client implements AutoCloseable {
    final DatagramSocket socket;
    final InetSocketAddress to;

    Client(int port) throws IOException {
      socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      to = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    void send(byte[] b) throws IOException {
      socket.send(new DatagramPacket(b, b.length, to));
    }

    void send(String s) throws IOException {
      send(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** The next datagram, or null if none came within {@code millis}. */
    byte[] receive(int millis) throws IOException {
      byte[] buf = new byte[65536];
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      socket.setSoTimeout(millis);
      try {
        socket.receive(p);
      } catch (SocketTimeoutException e) {
        return null;
      }
      return Arrays.copyOf(p.getData(), p.getLength());
    }

    /** Sends {@code s} until its echo comes back (UDP may lose either), up to {@code tries} times. */
    String roundTrip(String s, int tries, int millis) throws IOException {
      for (int i = 0; i < tries; i++) {
        send(s);
        byte[] r;
        while ((r = receive(millis)) != null) {
          String got = new String(r, StandardCharsets.US_ASCII);
          if (got.equals(s)) {
            return got;
          }
        }
      }
      return null;
    }

    @Override
    public void close() {
      socket.close();
    }
  }
}
