package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One request and its answer over UDP, retransmitted on the schedule of RFC 6886 §3.1: the first
 * resend 250 ms after the first send, the interval doubling each time, at most 9 sends, and never
 * past the {@link Deadline}. PCP (RFC 6887 §8.1.1 asks for a 3 s first interval) and SSDP use the
 * same schedule here, because a discovery budget is a second or two.
 *
 * <p>Answers the {@link Decoder} does not recognise (garbage, truncated, for another request) are
 * ignored and counted; the count is in the timeout's message.
 */
final class UdpExchange {
  static final Duration FIRST_INTERVAL = Duration.ofMillis(250);
  static final int MAX_SENDS = 9;
  /**
   * The longest answer read; longer ones are ignored. NAT-PMP's are 16 bytes, SSDP's under 1 KiB,
   * and PCP's decoder holds them to RFC 6887's 1100.
   */
  static final int MAX_ANSWER_BYTES = 2048;

  /** Reads one answer; empty when it is not the awaited one. */
  interface Decoder<T> {
    /**
     * @throws IOException to end the exchange at once, for an answer that settles it without a
     *     result (the gateway speaks another protocol version)
     */
    Optional<T> decode(DatagramPacket answer) throws IOException;
  }

  private UdpExchange() {}

  /** A UDP socket on an ephemeral port, connected to {@code remote} and registered in {@code inFlight}. */
  static DatagramSocket connectedSocket(InFlight inFlight, InetSocketAddress remote) throws IOException {
    return connectedSocket(inFlight, remote, null);
  }

  /** The same, sending from {@code source} (null: whatever address the kernel picks). */
  static DatagramSocket connectedSocket(InFlight inFlight, InetSocketAddress remote, java.net.InetAddress source)
      throws IOException {
    DatagramSocket socket = inFlight.add(new DatagramSocket(null));
    try {
      socket.bind(new InetSocketAddress(source, 0));
      socket.connect(remote);
    } catch (IOException | UncheckedIOException e) {
      inFlight.finish(socket);
      throw new IOException("cannot reach " + IpLiteral.format(remote) + ": " + e.getMessage(), e);
    }
    return socket;
  }

  /** The datagram an answer holds, for a codec. */
  static ByteBuffer payload(DatagramPacket answer) {
    return ByteBuffer.wrap(answer.getData(), answer.getOffset(), answer.getLength()).slice();
  }

  /**
   * Sends every one of {@code requests} (each with its destination; on a connected socket the
   * destination may be left out) per round until an answer decodes.
   *
   * @param what names the exchange in error messages, e.g. {@code "PCP MAP to 192.168.1.1:5351"}
   * @throws SocketTimeoutException when no answer came before the deadline or the last send
   * @throws PortUnreachableException when the gateway says nothing listens there (connected
   *     sockets only)
   */
  static <T> T exchange(DatagramSocket socket, List<DatagramPacket> requests, Decoder<T> decoder,
      Deadline deadline, String what) throws IOException {
    byte[] buffer = new byte[MAX_ANSWER_BYTES + 1];
    DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
    long start = System.nanoTime();
    long intervalNanos = FIRST_INTERVAL.toNanos();
    int sends = 0;
    int ignored = 0;
    try {
      while (sends < MAX_SENDS && !deadline.passed()) {
        sendAll(socket, requests, what);
        sends++;
        long sliceEnd = System.nanoTime() + Math.min(intervalNanos, deadline.remainingNanos());
        for (long left; (left = sliceEnd - System.nanoTime()) > 0; ) {
          socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
          answer.setLength(buffer.length);
          try {
            socket.receive(answer);
          } catch (SocketTimeoutException sliceOver) {
            break;
          }
          Optional<T> decoded = answer.getLength() > MAX_ANSWER_BYTES ? Optional.empty() : decoder.decode(answer);
          if (decoded.isPresent()) {
            return decoded.get();
          }
          ignored++;
        }
        intervalNanos *= 2;
      }
    } catch (PortUnreachableException e) {
      PortUnreachableException named =
          new PortUnreachableException(what + ": nothing listens there (ICMP port unreachable)");
      named.initCause(e);
      throw named;
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    throw new SocketTimeoutException(what + ": no answer after " + sends + (sends == 1 ? " try" : " tries")
        + " in " + millis + " ms" + (ignored > 0 ? " (ignored " + ignored + " unrelated or malformed answers)" : ""));
  }

  /** On a connected socket one failed send ends the exchange; otherwise only all of them failing. */
  private static void sendAll(DatagramSocket socket, List<DatagramPacket> requests, String what) throws IOException {
    IOException first = null;
    int failed = 0;
    for (DatagramPacket request : requests) {
      try {
        socket.send(request);
      } catch (PortUnreachableException e) {
        throw e;
      } catch (IOException e) {
        failed++;
        if (first == null) {
          InetSocketAddress to = (InetSocketAddress) request.getSocketAddress();
          first = new IOException(what + ": cannot send to " + IpLiteral.format(to) + ": " + e.getMessage(), e);
        }
      }
    }
    if (first != null && (failed == requests.size() || socket.isConnected())) {
      throw first;
    }
  }
}
