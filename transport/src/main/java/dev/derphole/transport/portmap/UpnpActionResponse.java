package dev.derphole.transport.portmap;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to a successful {@link UpnpAction} (UDA 1.1 §3.2.2): an element named after the
 * action plus {@code Response}, holding the out arguments.
 *
 * <pre>
 * &lt;s:Body&gt;&lt;u:GetExternalIPAddressResponse xmlns:u="urn:...:WANIPConnection:1"&gt;
 *   &lt;NewExternalIPAddress&gt;203.0.113.7&lt;/NewExternalIPAddress&gt;
 * &lt;/u:GetExternalIPAddressResponse&gt;&lt;/s:Body&gt;
 * </pre>
 */
record UpnpActionResponse(String serviceType, String action, Map<String, String> values) {
  UpnpActionResponse {
    Objects.requireNonNull(serviceType, "serviceType");
    Objects.requireNonNull(action, "action");
    values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  byte[] encode() {
    return new UpnpAction(serviceType, action + "Response", values).encode();
  }

  /** Empty unless the bytes are a SOAP envelope holding {@code action}'s response element. */
  static Optional<UpnpActionResponse> decode(byte[] body, String action) {
    return UpnpAction.decode(body)
        .filter(a -> a.name().equals(action + "Response"))
        .map(a -> new UpnpActionResponse(a.serviceType(), action, a.arguments()));
  }
}
