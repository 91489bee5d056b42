package dev.derphole.transport.portmap;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A device's answer to an {@link SsdpSearch} (UDA 1.1 §1.3.3), sent unicast to the searcher:
 *
 * <pre>
 * HTTP/1.1 200 OK
 * CACHE-CONTROL: max-age=120
 * ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1
 * EXT:
 * LOCATION: http://192.168.1.1:5000/rootDesc.xml
 * </pre>
 *
 * LOCATION is where the device description is. Other headers (USN, SERVER, ...) are ignored.
 */
record SsdpResponse(String searchTarget, URI location) {
  static final String START_LINE = "HTTP/1.1 200 OK";

  SsdpResponse {
    Objects.requireNonNull(searchTarget, "searchTarget");
    Objects.requireNonNull(location, "location");
    if (!"http".equals(location.getScheme()) || location.getHost() == null) {
      throw new IllegalArgumentException("location must be an http URL with a host, got " + location);
    }
  }

  byte[] encode() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("CACHE-CONTROL", "max-age=120");
    headers.put("ST", searchTarget);
    headers.put("EXT", "");
    headers.put("LOCATION", location.toString());
    return Ssdp.format(START_LINE, headers);
  }

  /** Empty unless the bytes are a 200 answer whose LOCATION is an http URL with a host. */
  static Optional<SsdpResponse> decode(ByteBuffer bytes) {
    return Ssdp.parse(bytes).flatMap(m -> {
      String location = m.headers().get("LOCATION");
      if (!m.startLine().matches("HTTP/1\\.[01] 200( .*)?") || location == null) {
        return Optional.empty();
      }
      try {
        URI uri = new URI(location);
        if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
          return Optional.empty();
        }
        return Optional.of(new SsdpResponse(m.headers().getOrDefault("ST", ""), uri));
      } catch (URISyntaxException malformed) {
        return Optional.empty();
      }
    });
  }
}
