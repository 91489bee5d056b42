package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Maps our UDP port with UPnP IGD (see {@link Upnp}).
 *
 * <p>HTTP is {@link UpnpHttp}. Only SSDP answers from the gateway count, and the description and
 * control URLs must stay on the host that answered, so a device elsewhere on the LAN cannot steer
 * us.
 */
final class UpnpClient {
  private final InetAddress gateway;
  private final List<InetSocketAddress> ssdpTargets;
  private final int internalPort;
  private final InFlight inFlight;

  UpnpClient(InetAddress gateway, List<InetSocketAddress> ssdpTargets, int internalPort, InFlight inFlight) {
    this.gateway = gateway;
    this.ssdpTargets = List.copyOf(ssdpTargets);
    this.internalPort = internalPort;
    this.inFlight = inFlight;
  }

  Lease map(Deadline deadline) throws IOException {
    URI location = discover(deadline);
    UpnpHttp.Answer answer = UpnpHttp.get(inFlight, location, deadline);
    if (answer.status() != 200) {
      throw new IOException("UPnP: GET " + location + " answered HTTP " + answer.status());
    }
    byte[] description = answer.body();
    IgdService service = IgdService.find(description, location).orElseThrow(() -> new IOException(
        "UPnP: " + location + " describes no WANIPConnection or WANPPPConnection service on its own host"));
    InetAddress controlHost = IpLiteral.parseHost(service.controlUrl().getHost()).orElse(gateway);
    InetAddress lan = RouteTable.localAddressToward(controlHost)
        .orElseThrow(() -> new IOException("UPnP: no local address toward " + controlHost));
    return add(service, lan, internalPort, Upnp.LEASE.toSeconds(), true, deadline);
  }

  private URI discover(Deadline deadline) throws IOException {
    List<DatagramPacket> searches = new ArrayList<>();
    for (InetSocketAddress target : ssdpTargets) {
      for (String type : Upnp.DEVICE_TYPES) {
        byte[] search = new SsdpSearch(type, Ssdp.MAX_WAIT_SECONDS).encode();
        searches.add(new DatagramPacket(search, search.length, target));
      }
    }
    DatagramSocket socket = inFlight.add(new DatagramSocket());
    try {
      return UdpExchange.exchange(socket, searches, this::gatewayAnswer, deadline,
          "UPnP: SSDP search for an IGD at " + ssdpTargets.stream().map(IpLiteral::format).toList()).location();
    } finally {
      inFlight.finish(socket);
    }
  }

  /**
   * An answer from the gateway whose LOCATION names the gateway itself. Its ST is not checked:
   * only searches for an IGD were sent, and some devices answer with another ST.
   */
  private Optional<SsdpResponse> gatewayAnswer(DatagramPacket answer) {
    if (!answer.getAddress().equals(gateway)) {
      return Optional.empty();
    }
    return SsdpResponse.decode(UdpExchange.payload(answer))
        .filter(r -> IpLiteral.parseHost(r.location().getHost()).filter(answer.getAddress()::equals).isPresent());
  }

  /**
   * AddPortMapping, after GetExternalIPAddress. A conflict moves to a random port when {@code
   * mayMove} (not on renewal: the peers know the port); a gateway that only grants permanent
   * leases gets lease 0.
   */
  private Held add(IgdService service, InetAddress lan, int externalPort, long leaseSeconds, boolean mayMove,
      Deadline deadline) throws IOException {
    InetAddress external = externalAddress(service, deadline);
    int port = externalPort;
    long lease = leaseSeconds;
    int conflicts = 0;
    while (true) {
      try {
        call(service, Upnp.ADD_PORT_MAPPING, addArguments(port, lan, lease), deadline);
        Mapping mapping = new Mapping(Mapping.UPNP, new InetSocketAddress(external, port),
            lease == 0 ? Upnp.LEASE : Duration.ofSeconds(lease));
        return new Held(this, mapping, service, lan, port, lease);
      } catch (UpnpFaultException e) {
        if (e.errorCode() == Upnp.ONLY_PERMANENT_LEASES_SUPPORTED && lease != 0) {
          lease = 0;
        } else if (e.errorCode() == Upnp.CONFLICT_IN_MAPPING_ENTRY && mayMove && conflicts < Upnp.CONFLICT_RETRIES) {
          conflicts++;
          port = ThreadLocalRandom.current().nextInt(Upnp.RANDOM_PORT_LOW, Upnp.RANDOM_PORT_HIGH + 1);
        } else {
          throw e;
        }
      }
    }
  }

  private Map<String, String> addArguments(int externalPort, InetAddress lan, long leaseSeconds) {
    Map<String, String> arguments = new LinkedHashMap<>();
    arguments.put("NewRemoteHost", "");
    arguments.put("NewExternalPort", Integer.toString(externalPort));
    arguments.put("NewProtocol", "UDP");
    arguments.put("NewInternalPort", Integer.toString(internalPort));
    arguments.put("NewInternalClient", lan.getHostAddress());
    arguments.put("NewEnabled", "1");
    arguments.put("NewPortMappingDescription", Upnp.DESCRIPTION);
    arguments.put("NewLeaseDuration", Long.toString(leaseSeconds));
    return arguments;
  }

  private InetAddress externalAddress(IgdService service, Deadline deadline) throws IOException {
    String text = call(service, Upnp.GET_EXTERNAL_IP_ADDRESS, Map.of(), deadline)
        .getOrDefault("NewExternalIPAddress", "");
    return IpLiteral.parseHost(text).filter(a -> a.getAddress().length == 4 && !a.isAnyLocalAddress())
        .orElseThrow(() -> new IOException("UPnP: " + service.controlUrl() + " reports no usable external address (\""
            + text + "\"): the WAN is down, or the gateway refuses a private WAN address"
            + " (miniupnpd: ext_allow_private_ipv4)"));
  }

  private void delete(IgdService service, int externalPort, Deadline deadline) throws IOException {
    Map<String, String> arguments = new LinkedHashMap<>();
    arguments.put("NewRemoteHost", "");
    arguments.put("NewExternalPort", Integer.toString(externalPort));
    arguments.put("NewProtocol", "UDP");
    call(service, Upnp.DELETE_PORT_MAPPING, arguments, deadline);
  }

  /** Posts the action; returns its out arguments, or throws with the fault. */
  private Map<String, String> call(IgdService service, String action, Map<String, String> arguments,
      Deadline deadline) throws IOException {
    UpnpAction call = new UpnpAction(service.serviceType(), action, arguments);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "text/xml; charset=\"utf-8\"");
    headers.put("SOAPAction", call.soapActionHeader());
    UpnpHttp.Answer answer = UpnpHttp.post(inFlight, service.controlUrl(), headers, call.encode(), deadline);
    if (answer.status() == 200) {
      Optional<UpnpActionResponse> response = UpnpActionResponse.decode(answer.body(), action);
      if (response.isPresent()) {
        return response.get().values();
      }
    }
    Optional<UpnpFault> fault = UpnpFault.decode(answer.body());
    if (fault.isPresent()) {
      throw new UpnpFaultException("UPnP: " + action + " at " + service.controlUrl() + " failed", fault.get());
    }
    throw new IOException("UPnP: " + action + " at " + service.controlUrl() + " answered HTTP " + answer.status()
        + " without a SOAP response or fault");
  }

  private record Held(UpnpClient client, Mapping mapping, IgdService service, InetAddress lan, int externalPort,
      long leaseSeconds) implements Lease {
    /** The same AddPortMapping again: gateways treat it as a renewal of our own entry. */
    @Override
    public Lease renew(Deadline deadline) throws IOException {
      return client.add(service, lan, externalPort, leaseSeconds, false, deadline);
    }

    @Override
    public void release(Deadline deadline) throws IOException {
      client.delete(service, externalPort, deadline);
    }
  }
}
