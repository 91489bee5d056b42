package dev.derphole.transport.portmap;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An SSDP search (UDA 1.1 §1.3.2), for one search target:
 *
 * <pre>
 * M-SEARCH * HTTP/1.1
 * HOST: 239.255.255.250:1900
 * MAN: "ssdp:discover"
 * MX: 1
 * ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1
 * </pre>
 *
 * The same text goes to the multicast group and, unicast, to the gateway's port 1900.
 */
record SsdpSearch(String searchTarget, int maxWaitSeconds) {
  static final String START_LINE = "M-SEARCH * HTTP/1.1";
  static final String DISCOVER = "\"ssdp:discover\"";

  SsdpSearch {
    Objects.requireNonNull(searchTarget, "searchTarget");
    if (searchTarget.isBlank() || searchTarget.contains("\r") || searchTarget.contains("\n")) {
      throw new IllegalArgumentException("search target must be one non-blank line, got \"" + searchTarget + "\"");
    }
    if (maxWaitSeconds < 1 || maxWaitSeconds > 5) {
      throw new IllegalArgumentException("MX must be 1..5 seconds (UDA 1.1), got " + maxWaitSeconds);
    }
  }

  byte[] encode() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("HOST", Ssdp.MULTICAST.getAddress().getHostAddress() + ":" + Ssdp.PORT);
    headers.put("MAN", DISCOVER);
    headers.put("MX", Integer.toString(maxWaitSeconds));
    headers.put("ST", searchTarget);
    return Ssdp.format(START_LINE, headers);
  }

  /** Empty unless the bytes are an M-SEARCH for discovery with ST and a valid MX. */
  static Optional<SsdpSearch> decode(ByteBuffer bytes) {
    return Ssdp.parse(bytes).flatMap(m -> {
      String st = m.headers().get("ST");
      String mx = m.headers().get("MX");
      if (!m.startLine().equals(START_LINE) || !DISCOVER.equals(m.headers().get("MAN")) || st == null || st.isBlank()
          || mx == null || !mx.matches("[1-5]")) {
        return Optional.empty();
      }
      return Optional.of(new SsdpSearch(st, Integer.parseInt(mx)));
    });
  }
}
