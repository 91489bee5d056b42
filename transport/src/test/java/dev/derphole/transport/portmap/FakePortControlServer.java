package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * A gateway's port 5351 on loopback: PCP, NAT-PMP, both, or neither, as configured. It records
 * every request it understood, in order, and answers as a well-behaved gateway would, unless a
 * test rewrites the answer with {@link #replies}.
 */
final class FakePortControlServer implements AutoCloseable {
  static final Inet4Address EXTERNAL = (Inet4Address) address("203.0.113.7");
  static final Duration WAIT = Duration.ofSeconds(5);

  enum Speaks { PCP_AND_NAT_PMP, NAT_PMP_ONLY, PCP_ONLY }

  private final DatagramSocket socket;
  private final Thread thread;
  private final long startNanos = System.nanoTime();

  /** Every request understood: {@link PcpMapRequest}, {@link NatPmpAddressRequest}, {@link NatPmpMapRequest}. */
  final BlockingQueue<WireMessage> requests = new LinkedBlockingQueue<>();
  volatile Speaks speaks;
  /** The longest lifetime granted, in seconds. */
  volatile long maxLifetimeSeconds = 7200;
  /** The external port assigned; 0 grants the suggested one (or the internal one). */
  volatile int assignedPort;
  /** Given each request and the normal answer, what to send back; each element is one datagram. */
  volatile BiFunction<WireMessage, byte[], List<byte[]>> replies = (request, normal) -> List.of(normal);

  FakePortControlServer(Speaks speaks) throws SocketException {
    this.speaks = speaks;
    this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    this.thread = new Thread(this::serve, "fake-port-control");
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    return socket.getLocalPort();
  }

  /** The next request, which must be of {@code type}, within {@link #WAIT}. */
  <T extends WireMessage> T next(Class<T> type) throws InterruptedException {
    WireMessage request = requests.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(request).as("a %s within %s", type.getSimpleName(), WAIT).isInstanceOf(type);
    return type.cast(request);
  }

  private void serve() {
    byte[] buffer = new byte[2048];
    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
    while (!socket.isClosed()) {
      try {
        packet.setLength(buffer.length);
        socket.receive(packet);
        ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, packet.getLength()).slice();
        Optional<WireMessage> request = decode(bytes.duplicate());
        if (request.isEmpty()) {
          continue;
        }
        requests.add(request.get());
        byte[] normal = answer(request.get());
        if (normal == null) {
          continue;
        }
        for (byte[] reply : replies.apply(request.get(), normal)) {
          socket.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
        }
      } catch (IOException closed) {
        return;
      }
    }
  }

  private static Optional<WireMessage> decode(ByteBuffer bytes) {
    if (bytes.remaining() >= 1 && bytes.get(0) == NatPmp.VERSION) {
      Optional<WireMessage> address = NatPmpAddressRequest.decode(bytes.duplicate()).map(WireMessage.class::cast);
      return address.isPresent() ? address : NatPmpMapRequest.decode(bytes.duplicate()).map(WireMessage.class::cast);
    }
    return PcpMapRequest.decode(bytes).map(WireMessage.class::cast);
  }

  /** The answer a gateway that speaks {@link #speaks} sends; null for silence. */
  private byte[] answer(WireMessage request) {
    long epoch = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
    if (request instanceof PcpMapRequest map) {
      if (speaks == Speaks.NAT_PMP_ONLY) {
        // RFC 6886 §3.5 (with erratum 3618): version 0, op 128, result 1, epoch.
        return ByteBuffer.allocate(8).put((byte) 0).put((byte) 128).putShort((short) 1).putInt((int) epoch).array();
      }
      int port = map.lifetimeSeconds() == 0
          ? map.suggestedExternalPort()
          : grantedPort(map.suggestedExternalPort(), map.internalPort());
      return new PcpMapResponse(Pcp.SUCCESS, Math.min(map.lifetimeSeconds(), maxLifetimeSeconds), epoch, map.nonce(),
          map.protocol(), map.internalPort(), port, EXTERNAL).encode();
    }
    if (speaks == Speaks.PCP_ONLY) {
      return null;
    }
    if (request instanceof NatPmpAddressRequest) {
      return new NatPmpAddressResponse(NatPmp.SUCCESS, epoch, EXTERNAL).encode();
    }
    NatPmpMapRequest map = (NatPmpMapRequest) request;
    if (map.lifetimeSeconds() == 0) {
      return new NatPmpMapResponse(NatPmp.SUCCESS, epoch, map.internalPort(), 0, 0).encode();
    }
    return new NatPmpMapResponse(NatPmp.SUCCESS, epoch, map.internalPort(),
        grantedPort(map.suggestedExternalPort(), map.internalPort()),
        Math.min(map.lifetimeSeconds(), maxLifetimeSeconds)).encode();
  }

  private int grantedPort(int suggested, int internal) {
    int fixed = assignedPort;
    return fixed != 0 ? fixed : suggested != 0 ? suggested : internal;
  }

  @Override
  public void close() {
    socket.close();
    MapperFixture.join(thread);
    assertThat(thread.isAlive()).as("fake port control thread ended").isFalse();
  }

  static InetAddress address(String literal) {
    return IpLiteral.parseHost(literal).orElseThrow();
  }
}
