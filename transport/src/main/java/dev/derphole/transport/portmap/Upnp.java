package dev.derphole.transport.portmap;

import java.time.Duration;
import java.util.List;

/**
 * UPnP IGD port mapping (UPnP Device Architecture 1.1; IGD:1 and IGD:2, WANIPConnection or
 * WANPPPConnection), run by {@link UpnpClient}:
 *
 * <pre>
 *   us ── SSDP M-SEARCH, IGD:1 and IGD:2 ─────▶ 239.255.255.250:1900 and gateway:1900
 *   us ◀── 200 OK, LOCATION: http://gateway:port/rootDesc.xml (only the gateway's answer counts)
 *   us ── HTTP GET LOCATION ─────────────────▶ the WAN connection service's controlURL
 *   us ── SOAP GetExternalIPAddress ─────────▶ NewExternalIPAddress
 *   us ── SOAP AddPortMapping ───────────────▶ external port = ours, lease 3600 s;
 *                                               718 (conflict) → a random port in 49152..65535,
 *                                               725 (only permanent leases) → lease 0
 *   ... the same AddPortMapping again at half the lease ...
 *   us ── SOAP DeletePortMapping ────────────▶ on close
 * </pre>
 *
 * SOAP is an HTTP POST of a {@link UpnpAction} to the controlURL with the header {@code SOAPAction:
 * "serviceType#action"}; the answer is a {@link UpnpActionResponse} (200) or a {@link UpnpFault}
 * (500).
 */
final class Upnp {
  static final List<String> DEVICE_TYPES = List.of(
      "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
      "urn:schemas-upnp-org:device:InternetGatewayDevice:2");
  /** The services that map ports, in the order we prefer them. */
  static final List<String> SERVICE_TYPES = List.of(
      "urn:schemas-upnp-org:service:WANIPConnection:2",
      "urn:schemas-upnp-org:service:WANIPConnection:1",
      "urn:schemas-upnp-org:service:WANPPPConnection:1");

  static final String GET_EXTERNAL_IP_ADDRESS = "GetExternalIPAddress";
  static final String ADD_PORT_MAPPING = "AddPortMapping";
  static final String DELETE_PORT_MAPPING = "DeletePortMapping";

  static final Duration LEASE = Duration.ofSeconds(3600);
  static final String DESCRIPTION = "derphole";
  /** Where a random external port comes from after a conflict: the IANA dynamic range. */
  static final int RANDOM_PORT_LOW = 49152;
  static final int RANDOM_PORT_HIGH = 65535;
  /** Random ports tried after the first conflict before giving up. */
  static final int CONFLICT_RETRIES = 3;
  /** Descriptions are a few KiB; anything past this is not an IGD. */
  static final int MAX_BODY_BYTES = 256 * 1024;

  static final int INVALID_ARGS = 402;
  static final int ACTION_FAILED = 501;
  static final int ACTION_NOT_AUTHORIZED = 606;
  static final int NO_SUCH_ENTRY_IN_ARRAY = 714;
  static final int CONFLICT_IN_MAPPING_ENTRY = 718;
  static final int SAME_PORT_VALUES_REQUIRED = 724;
  static final int ONLY_PERMANENT_LEASES_SUPPORTED = 725;
  static final int NO_PORT_MAPS_AVAILABLE = 728;

  private Upnp() {}
}
