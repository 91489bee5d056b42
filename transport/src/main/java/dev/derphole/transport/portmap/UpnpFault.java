package dev.derphole.transport.portmap;

import java.util.Objects;
import java.util.Optional;
import org.w3c.dom.Element;

/**
 * A failed {@link UpnpAction} (UDA 1.1 §3.2.2), sent with HTTP status 500:
 *
 * <pre>
 * &lt;s:Body&gt;&lt;s:Fault&gt;&lt;faultcode&gt;s:Client&lt;/faultcode&gt;&lt;faultstring&gt;UPnPError&lt;/faultstring&gt;
 *   &lt;detail&gt;&lt;UPnPError xmlns="urn:schemas-upnp-org:control-1-0"&gt;
 *     &lt;errorCode&gt;718&lt;/errorCode&gt;&lt;errorDescription&gt;ConflictInMappingEntry&lt;/errorDescription&gt;
 * &lt;/UPnPError&gt;&lt;/detail&gt;&lt;/s:Fault&gt;&lt;/s:Body&gt;
 * </pre>
 *
 * The codes that matter here are in {@link Upnp}.
 */
record UpnpFault(int errorCode, String description) {
  static final String CONTROL_NS = "urn:schemas-upnp-org:control-1-0";

  UpnpFault {
    Objects.requireNonNull(description, "description");
  }

  byte[] encode() {
    return UpnpXml.soapEnvelope("<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
        + "<detail><UPnPError xmlns=\"" + CONTROL_NS + "\"><errorCode>" + errorCode + "</errorCode>"
        + "<errorDescription>" + UpnpXml.escape(description) + "</errorDescription></UPnPError></detail></s:Fault>");
  }

  /** Empty unless the bytes are a SOAP fault carrying a UPnPError with a numeric errorCode. */
  static Optional<UpnpFault> decode(byte[] body) {
    return UpnpXml.parse(body)
        .flatMap(UpnpXml::soapBodyContent)
        .filter(fault -> "Fault".equals(fault.getLocalName()))
        .flatMap(fault -> UpnpXml.elements(fault, "UPnPError").stream().findFirst())
        .flatMap(UpnpFault::fromError);
  }

  private static Optional<UpnpFault> fromError(Element error) {
    String code = UpnpXml.childText(error, "errorCode").orElse("");
    if (!code.matches("[0-9]{1,9}")) {
      return Optional.empty();
    }
    return Optional.of(new UpnpFault(Integer.parseInt(code), UpnpXml.childText(error, "errorDescription").orElse("")));
  }

  @Override
  public String toString() {
    return "UPnP error " + errorCode + (description.isEmpty() ? "" : " " + description);
  }
}
