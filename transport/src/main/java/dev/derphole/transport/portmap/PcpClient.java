package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Maps our UDP port with a PCP MAP request (see {@link Pcp}). The client IP field must be the
 * request's source address, so each exchange connects its own socket to the gateway and reads the
 * address the kernel chose. A fresh random nonce names the mapping; renewals and the delete reuse
 * it. An answer in NAT-PMP (version 0) ends the exchange with {@link PcpUnsupportedException}.
 */
final class PcpClient {
  private final InetSocketAddress server;
  private final int internalPort;
  private final InFlight inFlight;
  /** The internal address to map; null for the one the kernel picks toward the gateway. */
  private final InetAddress source;

  PcpClient(InetSocketAddress server, int internalPort, InFlight inFlight) {
    this(server, internalPort, inFlight, null);
  }

  /**
   * @param source the internal address, which the requests are sent from (RFC 6887 §8.1: the
   *     client IP must be the source): for an IPv6 pinhole our global address, since toward a
   *     link-local gateway the kernel would pick our link-local one
   */
  PcpClient(InetSocketAddress server, int internalPort, InFlight inFlight, InetAddress source) {
    this.server = server;
    this.internalPort = internalPort;
    this.inFlight = inFlight;
    this.source = source;
  }

  /**
   * Maps the port; toward an IPv6 gateway the internal address is our IPv6 one, and on a router
   * that offers it the answer is a firewall pinhole: the same address and (usually) port, opened
   * for inbound traffic. The "no preference" external address is then {@code ::}, not IPv4's.
   */
  Lease map(Deadline deadline) throws IOException {
    InetAddress any = server.getAddress() instanceof java.net.Inet6Address ? Pcp.NO_ADDRESS6 : Pcp.NO_ADDRESS;
    return request(PcpNonce.random(), internalPort, any, deadline);
  }

  private Held request(PcpNonce nonce, int suggestedExternalPort, InetAddress suggestedExternalAddress,
      Deadline deadline) throws IOException {
    PcpMapResponse answer = exchange(nonce, Pcp.REQUESTED_LIFETIME.toSeconds(), suggestedExternalPort,
        suggestedExternalAddress, deadline);
    if (answer.externalPort() == 0 || answer.lifetimeSeconds() == 0 || answer.externalAddress().isAnyLocalAddress()) {
      throw new IOException("PCP: " + IpLiteral.format(server) + " granted no mapping (external "
          + answer.externalAddress().getHostAddress() + ":" + answer.externalPort() + ", lifetime "
          + answer.lifetimeSeconds() + " s)");
    }
    Mapping mapping = new Mapping(Mapping.PCP, new InetSocketAddress(answer.externalAddress(), answer.externalPort()),
        Duration.ofSeconds(answer.lifetimeSeconds()));
    return new Held(this, mapping, nonce, answer.externalPort(), answer.externalAddress());
  }

  /** One MAP exchange; returns the answer only if it is a success. Lifetime 0 deletes. */
  private PcpMapResponse exchange(PcpNonce nonce, long lifetimeSeconds, int suggestedExternalPort,
      InetAddress suggestedExternalAddress, Deadline deadline) throws IOException {
    DatagramSocket socket = UdpExchange.connectedSocket(inFlight, server, source);
    try {
      InetAddress local = socket.getLocalAddress();
      if (local == null || local.isAnyLocalAddress()) {
        throw new IOException("PCP: no local address toward " + IpLiteral.format(server));
      }
      byte[] ask = new PcpMapRequest(lifetimeSeconds, local, nonce, Pcp.PROTOCOL_UDP, internalPort,
          suggestedExternalPort, suggestedExternalAddress).encode();
      PcpMapResponse answer = UdpExchange.exchange(socket, List.of(new DatagramPacket(ask, ask.length, server)),
          datagram -> decode(datagram, nonce), deadline, "PCP MAP request to " + IpLiteral.format(server));
      if (answer.resultCode() != Pcp.SUCCESS) {
        String action = lifetimeSeconds == 0 ? "delete the mapping of" : "map";
        throw new IOException("PCP: " + IpLiteral.format(server) + " refused to " + action + " UDP port " + internalPort
            + ": " + Pcp.resultName(answer.resultCode()));
      }
      return answer;
    } finally {
      inFlight.finish(socket);
    }
  }

  /**
   * Our answer echoes the nonce, the protocol and the internal port. A header-only error cannot
   * echo them; it came from the gateway to our socket, so it is ours.
   */
  private Optional<PcpMapResponse> decode(DatagramPacket datagram, PcpNonce nonce) throws PcpUnsupportedException {
    ByteBuffer bytes = UdpExchange.payload(datagram);
    int version = bytes.remaining() >= 4 ? bytes.get(0) & 0xff : -1;
    if (version == NatPmp.VERSION) {
      throw new PcpUnsupportedException(IpLiteral.format(server) + " answered in NAT-PMP (version 0, "
          + NatPmp.resultName(bytes.getShort(2) & 0xffff) + ")");
    }
    if (version > 0 && version != Pcp.VERSION && (bytes.get(3) & 0xff) == Pcp.UNSUPP_VERSION) {
      throw new PcpUnsupportedException(IpLiteral.format(server) + " speaks PCP version " + version + " only");
    }
    return PcpMapResponse.decode(bytes).filter(r -> r.nonce() == null
        || (r.nonce().equals(nonce) && r.protocol() == Pcp.PROTOCOL_UDP && r.internalPort() == internalPort));
  }

  private record Held(PcpClient client, Mapping mapping, PcpNonce nonce, int externalPort, InetAddress externalAddress)
      implements Lease {
    /** RFC 6887 §11.2.1: the same nonce, suggesting what we hold. */
    @Override
    public Lease renew(Deadline deadline) throws IOException {
      return client.request(nonce, externalPort, externalAddress, deadline);
    }

    @Override
    public void release(Deadline deadline) throws IOException {
      client.exchange(nonce, 0, externalPort, externalAddress, deadline);
    }
  }
}
