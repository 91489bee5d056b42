/**
 * Port mapping: asking the local NAT gateway to forward an external UDP port to the session's
 * UDP port, so that peers can reach us directly. {@link dev.derphole.transport.portmap.PortMapper}
 * speaks three protocols and keeps the {@link dev.derphole.transport.portmap.Mapping} alive:
 *
 * <ul>
 *   <li>PCP (RFC 6887), UDP to the gateway's port 5351: {@code Pcp*};
 *   <li>NAT-PMP (RFC 6886), its predecessor on the same port: {@code NatPmp*};
 *   <li>UPnP IGD: SSDP discovery, the device description over HTTP, SOAP control: {@code Ssdp*},
 *       {@code Igd*}, {@code Upnp*}.
 * </ul>
 *
 * Each wire format is a record with symmetric {@code encode}/{@code decode} (the binary ones are
 * {@code WireMessage}s); the {@code *Client} classes run the exchanges, each bounded by a {@code
 * Deadline}. Only the JDK is used: java.net sockets, and its DOM parser with DTDs refused.
 */
package dev.derphole.transport.portmap;
