package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * Maps our UDP port with NAT-PMP (see {@link NatPmp}): asks for the external address, then for
 * the mapping, suggesting the external port equal to ours. Each exchange uses its own socket,
 * connected to the gateway, so only the gateway's answers reach it.
 */
final class NatPmpClient {
  private final InetSocketAddress server;
  private final int internalPort;
  private final InFlight inFlight;

  NatPmpClient(InetSocketAddress server, int internalPort, InFlight inFlight) {
    this.server = server;
    this.internalPort = internalPort;
    this.inFlight = inFlight;
  }

  Lease map(Deadline deadline) throws IOException {
    return request(internalPort, deadline);
  }

  private Held request(int suggestedExternalPort, Deadline deadline) throws IOException {
    DatagramSocket socket = UdpExchange.connectedSocket(inFlight, server);
    try {
      NatPmpAddressResponse address = UdpExchange.exchange(socket, datagram(new NatPmpAddressRequest().encode()),
          answer -> NatPmpAddressResponse.decode(UdpExchange.payload(answer)), deadline,
          "NAT-PMP external address request to " + IpLiteral.format(server));
      if (address.resultCode() != NatPmp.SUCCESS) {
        throw new IOException("NAT-PMP: " + IpLiteral.format(server) + " refused the external address request: "
            + NatPmp.resultName(address.resultCode()));
      }
      if (address.externalAddress().isAnyLocalAddress()) {
        throw new IOException("NAT-PMP: " + IpLiteral.format(server) + " has no external address (0.0.0.0)");
      }
      NatPmpMapRequest ask = new NatPmpMapRequest(internalPort, suggestedExternalPort,
          NatPmp.REQUESTED_LIFETIME.toSeconds());
      NatPmpMapResponse map = exchangeMap(socket, ask, deadline);
      if (map.resultCode() != NatPmp.SUCCESS) {
        throw new IOException("NAT-PMP: " + IpLiteral.format(server) + " refused to map UDP port " + internalPort + ": "
            + NatPmp.resultName(map.resultCode()));
      }
      if (map.externalPort() == 0 || map.lifetimeSeconds() == 0) {
        throw new IOException("NAT-PMP: " + IpLiteral.format(server) + " granted no mapping (external port "
            + map.externalPort() + ", lifetime " + map.lifetimeSeconds() + " s)");
      }
      Mapping mapping = new Mapping(Mapping.NAT_PMP,
          new InetSocketAddress(address.externalAddress(), map.externalPort()),
          Duration.ofSeconds(map.lifetimeSeconds()));
      return new Held(this, mapping, map.externalPort());
    } finally {
      inFlight.finish(socket);
    }
  }

  private void delete(int externalPort, Deadline deadline) throws IOException {
    DatagramSocket socket = UdpExchange.connectedSocket(inFlight, server);
    try {
      NatPmpMapResponse answer = exchangeMap(socket, new NatPmpMapRequest(internalPort, externalPort, 0), deadline);
      if (answer.resultCode() != NatPmp.SUCCESS) {
        throw new IOException("NAT-PMP: " + IpLiteral.format(server) + " refused to delete the mapping of UDP port "
            + internalPort + ": " + NatPmp.resultName(answer.resultCode()));
      }
    } finally {
      inFlight.finish(socket);
    }
  }

  /** Errors count whatever port they name; a success must be for our internal port. */
  private NatPmpMapResponse exchangeMap(DatagramSocket socket, NatPmpMapRequest ask, Deadline deadline)
      throws IOException {
    return UdpExchange.exchange(socket, datagram(ask.encode()),
        answer -> NatPmpMapResponse.decode(UdpExchange.payload(answer))
            .filter(r -> r.resultCode() != NatPmp.SUCCESS || r.internalPort() == internalPort),
        deadline, "NAT-PMP map request to " + IpLiteral.format(server));
  }

  private List<DatagramPacket> datagram(byte[] bytes) {
    return List.of(new DatagramPacket(bytes, bytes.length, server));
  }

  private record Held(NatPmpClient client, Mapping mapping, int externalPort) implements Lease {
    /** RFC 6886 §3.3: a renewal suggests the port we hold. The external address is asked again too. */
    @Override
    public Lease renew(Deadline deadline) throws IOException {
      return client.request(externalPort, deadline);
    }

    @Override
    public void release(Deadline deadline) throws IOException {
      client.delete(externalPort, deadline);
    }
  }
}
