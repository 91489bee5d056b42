package dev.derphole.transport.portmap;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.w3c.dom.Element;

/**
 * A SOAP action call to a UPnP service (UDA 1.1 §3.2.1). Arguments go in the order the service
 * description lists them; some gateways insist.
 *
 * <pre>
 * &lt;s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="..."&gt;&lt;s:Body&gt;
 *   &lt;u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"&gt;
 *     &lt;NewRemoteHost&gt;&lt;/NewRemoteHost&gt;&lt;NewExternalPort&gt;41641&lt;/NewExternalPort&gt; ...
 *   &lt;/u:AddPortMapping&gt;
 * &lt;/s:Body&gt;&lt;/s:Envelope&gt;
 * </pre>
 */
record UpnpAction(String serviceType, String name, Map<String, String> arguments) {
  UpnpAction {
    Objects.requireNonNull(serviceType, "serviceType");
    Objects.requireNonNull(name, "name");
    if (!name.matches("[A-Za-z][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException("action name must be an XML name, got \"" + name + "\"");
    }
    arguments.keySet().forEach(UpnpAction::checkArgumentName);
    arguments = Collections.unmodifiableMap(new LinkedHashMap<>(arguments));
  }

  /** The value of the HTTP header {@code SOAPAction}, quotes included. */
  String soapActionHeader() {
    return "\"" + serviceType + "#" + name + "\"";
  }

  byte[] encode() {
    StringBuilder body = new StringBuilder();
    body.append("<u:").append(name).append(" xmlns:u=\"").append(UpnpXml.escape(serviceType)).append("\">");
    arguments.forEach((key, value) ->
        body.append('<').append(key).append('>').append(UpnpXml.escape(value)).append("</").append(key).append('>'));
    body.append("</u:").append(name).append('>');
    return UpnpXml.soapEnvelope(body.toString());
  }

  /** Empty unless the bytes are a SOAP envelope whose body is an action element in a namespace. */
  static Optional<UpnpAction> decode(byte[] body) {
    return UpnpXml.parse(body).flatMap(UpnpXml::soapBodyContent).flatMap(action -> {
      if (action.getNamespaceURI() == null) {
        return Optional.empty();
      }
      return Optional.of(new UpnpAction(action.getNamespaceURI(), action.getLocalName(), values(action)));
    });
  }

  /** The text of each element child, by local name, in order. */
  static Map<String, String> values(Element parent) {
    Map<String, String> values = new LinkedHashMap<>();
    UpnpXml.children(parent).forEach(child -> values.put(child.getLocalName(), child.getTextContent().trim()));
    return values;
  }

  private static void checkArgumentName(String key) {
    if (!key.matches("[A-Za-z][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException("argument name must be an XML name, got \"" + key + "\"");
    }
  }
}
