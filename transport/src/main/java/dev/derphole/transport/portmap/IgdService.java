package dev.derphole.transport.portmap;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Objects;
import java.util.Optional;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * The WAN connection service of an Internet Gateway Device, found in its device description
 * (UDA 1.1 §2.3), which nests it like this:
 *
 * <pre>
 * &lt;root&gt;&lt;URLBase&gt;(optional, UDA 1.0)&lt;/URLBase&gt;&lt;device&gt; ... &lt;device&gt;(WANConnectionDevice)
 *   &lt;serviceList&gt;&lt;service&gt;
 *     &lt;serviceType&gt;urn:schemas-upnp-org:service:WANIPConnection:1&lt;/serviceType&gt;
 *     &lt;controlURL&gt;/ctl/IPConn&lt;/controlURL&gt;
 * </pre>
 *
 * @param serviceType one of {@link Upnp#SERVICE_TYPES}
 * @param controlUrl where its SOAP actions are posted, absolute
 */
record IgdService(String serviceType, URI controlUrl) {
  IgdService {
    Objects.requireNonNull(serviceType, "serviceType");
    Objects.requireNonNull(controlUrl, "controlUrl");
  }

  /**
   * The most preferred WAN connection service in {@code description}, its controlURL resolved
   * against URLBase or else {@code location}. Empty when there is none, or when the controlURL
   * would leave the description's host or HTTP: a gateway may only point at itself.
   */
  static Optional<IgdService> find(byte[] description, URI location) {
    Optional<Document> parsed = UpnpXml.parse(description);
    if (parsed.isEmpty()) {
      return Optional.empty();
    }
    Document document = parsed.get();
    URI base = UpnpXml.childText(document.getDocumentElement(), "URLBase")
        .filter(text -> !text.isEmpty())
        .flatMap(IgdService::uri)
        .orElse(location);
    if (base.getRawPath() == null || base.getRawPath().isEmpty()) {
      base = base.resolve("/"); // so that a relative controlURL lands under "/", not after the port
    }
    for (String type : Upnp.SERVICE_TYPES) {
      for (Element service : UpnpXml.elements(document, "service")) {
        if (!UpnpXml.childText(service, "serviceType").orElse("").equals(type)) {
          continue;
        }
        Optional<URI> control = UpnpXml.childText(service, "controlURL").flatMap(IgdService::uri).map(base::resolve);
        if (control.isPresent() && sameServer(control.get(), location)) {
          return Optional.of(new IgdService(type, control.get()));
        }
      }
    }
    return Optional.empty();
  }

  private static boolean sameServer(URI control, URI location) {
    return "http".equals(control.getScheme()) && control.getHost() != null
        && control.getHost().equalsIgnoreCase(location.getHost());
  }

  private static Optional<URI> uri(String text) {
    try {
      return Optional.of(new URI(text));
    } catch (URISyntaxException malformed) {
      return Optional.empty();
    }
  }
}
