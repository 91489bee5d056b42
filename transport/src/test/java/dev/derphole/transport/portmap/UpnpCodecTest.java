package dev.derphole.transport.portmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** SSDP text, device descriptions and SOAP, including what a hostile gateway might send. */
class UpnpCodecTest {
  private static final URI LOCATION = URI.create("http://192.168.1.1:5000/rootDesc.xml");

  @Test
  void searchGolden() {
    String golden = "M-SEARCH * HTTP/1.1\r\n"
        + "HOST: 239.255.255.250:1900\r\n"
        + "MAN: \"ssdp:discover\"\r\n"
        + "MX: 1\r\n"
        + "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
        + "\r\n";
    SsdpSearch search = new SsdpSearch("urn:schemas-upnp-org:device:InternetGatewayDevice:1", 1);

    assertThat(new String(search.encode(), StandardCharsets.ISO_8859_1)).isEqualTo(golden);
    assertThat(SsdpSearch.decode(text(golden))).contains(search);
  }

  @Test
  void miniupnpdStyleAnswerDecodes() {
    String answer = "HTTP/1.1 200 OK\r\n"
        + "CACHE-CONTROL: max-age=120\r\n"
        + "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
        + "USN: uuid:00000000-0000-0000-0000-000000000000::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
        + "EXT:\r\n"
        + "SERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.3\r\n"
        + "Location: http://192.168.1.1:5000/rootDesc.xml\r\n" // header names are case-insensitive
        + "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"
        + "01-NLS: 1\r\n"
        + "\r\n";

    assertThat(SsdpResponse.decode(text(answer)))
        .contains(new SsdpResponse("urn:schemas-upnp-org:device:InternetGatewayDevice:1", LOCATION));
  }

  @Test
  void answersWithoutAUsableLocationAreNotAnswers() {
    assertThat(SsdpResponse.decode(text("HTTP/1.1 200 OK\r\nST: x\r\n\r\n"))).isEmpty();
    assertThat(SsdpResponse.decode(text("HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\n\r\n"))).isEmpty();
    assertThat(SsdpResponse.decode(text("HTTP/1.1 404 Not Found\r\nLOCATION: http://a/\r\n\r\n"))).isEmpty();
    assertThat(SsdpResponse.decode(text("HTTP/1.1 200 OK\r\nLOCATION http://a/\r\n\r\n"))).isEmpty();
    assertThat(SsdpResponse.decode(text("NOTIFY * HTTP/1.1\r\nLOCATION: http://a/\r\n\r\n"))).isEmpty();
  }

  @Test
  void searchTargetMustBeOneLine() {
    assertThatThrownBy(() -> new SsdpSearch("a\r\nLOCATION: x", 1)).hasMessageContaining("one non-blank line");
  }

  @Test
  void descriptionYieldsTheWanIpConnectionControlUrl() {
    String xml = description("", "urn:schemas-upnp-org:service:WANIPConnection:1", "/ctl/IPConn");

    assertThat(IgdService.find(utf8(xml), LOCATION)).contains(new IgdService(
        "urn:schemas-upnp-org:service:WANIPConnection:1", URI.create("http://192.168.1.1:5000/ctl/IPConn")));
  }

  @Test
  void urlBaseAndRelativeControlUrlsResolve() {
    String xml = description("<URLBase>http://192.168.1.1:5001</URLBase>",
        "urn:schemas-upnp-org:service:WANPPPConnection:1", "ctl/PPPConn");

    assertThat(IgdService.find(utf8(xml), LOCATION)).contains(new IgdService(
        "urn:schemas-upnp-org:service:WANPPPConnection:1", URI.create("http://192.168.1.1:5001/ctl/PPPConn")));
  }

  @Test
  void wanIpConnectionIsPreferredOverPpp() {
    String xml = "<root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device><serviceList>"
        + service("urn:schemas-upnp-org:service:WANPPPConnection:1", "/ppp")
        + service("urn:schemas-upnp-org:service:WANIPConnection:2", "/ip2")
        + "</serviceList></device></root>";

    assertThat(IgdService.find(utf8(xml), LOCATION).map(IgdService::serviceType))
        .contains("urn:schemas-upnp-org:service:WANIPConnection:2");
  }

  @Test
  void controlUrlOnAnotherHostIsRefused() {
    String xml = description("", "urn:schemas-upnp-org:service:WANIPConnection:1", "http://10.9.9.9/ctl");
    assertThat(IgdService.find(utf8(xml), LOCATION)).isEmpty();
  }

  @Test
  void doctypesAndExternalEntitiesAreRefused() {
    String xxe = "<?xml version=\"1.0\"?><!DOCTYPE root [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>"
        + "<root><device><serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1"
        + "</serviceType><controlURL>&x;</controlURL></service></serviceList></device></root>";
    String billionLaughs = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">"
        + "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><r>&b;</r>";

    assertThat(UpnpXml.parse(utf8(xxe))).isEmpty();
    assertThat(UpnpXml.parse(utf8(billionLaughs))).isEmpty();
    assertThat(IgdService.find(utf8(xxe), LOCATION)).isEmpty();
  }

  @Test
  void soapCallGolden() {
    Map<String, String> args = new LinkedHashMap<>();
    args.put("NewRemoteHost", "");
    args.put("NewExternalPort", "41641");
    args.put("NewPortMappingDescription", "a<b&c");
    UpnpAction call = new UpnpAction("urn:schemas-upnp-org:service:WANIPConnection:1", "AddPortMapping", args);

    assertThat(new String(call.encode(), StandardCharsets.UTF_8)).isEqualTo("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
        + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\""
        + " s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
        + "<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
        + "<NewRemoteHost></NewRemoteHost><NewExternalPort>41641</NewExternalPort>"
        + "<NewPortMappingDescription>a&lt;b&amp;c</NewPortMappingDescription>"
        + "</u:AddPortMapping></s:Body></s:Envelope>");
    assertThat(call.soapActionHeader()).isEqualTo("\"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"");
    assertThat(UpnpAction.decode(call.encode())).contains(call);
  }

  @Test
  void miniupnpdResponseAndFaultDecode() {
    String response = "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
        + "<u:GetExternalIPAddressResponse xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
        + "<NewExternalIPAddress>203.0.113.9</NewExternalIPAddress></u:GetExternalIPAddressResponse>"
        + "</s:Body></s:Envelope>\r\n";
    String fault = "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><s:Fault>"
        + "<faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
        + "<UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>718</errorCode>"
        + "<errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault>"
        + "</s:Body></s:Envelope>\r\n";

    assertThat(UpnpActionResponse.decode(utf8(response), "GetExternalIPAddress").map(UpnpActionResponse::values))
        .contains(Map.of("NewExternalIPAddress", "203.0.113.9"));
    assertThat(UpnpActionResponse.decode(utf8(response), "AddPortMapping")).isEmpty();
    assertThat(UpnpFault.decode(utf8(fault))).contains(new UpnpFault(718, "ConflictInMappingEntry"));
    assertThat(UpnpFault.decode(new UpnpFault(725, "OnlyPermanentLeasesSupported").encode()))
        .contains(new UpnpFault(725, "OnlyPermanentLeasesSupported"));
    assertThat(UpnpFault.decode(utf8(response))).isEmpty();
  }

  @Test
  void httpBodiesAreFramedByContentLengthOrChunks() throws Exception {
    assertThat(UpnpHttp.parse(utf8("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more")))
        .satisfies(a -> assertThat(a.status()).isEqualTo(200))
        .satisfies(a -> assertThat(a.body()).asString().isEqualTo("hello"));
    assertThat(UpnpHttp.parse(utf8("HTTP/1.1 500 Internal Server Error\r\nTRANSFER-ENCODING: chunked\r\n\r\n"
        + "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")))
        .satisfies(a -> assertThat(a.status()).isEqualTo(500))
        .satisfies(a -> assertThat(a.body()).asString().isEqualTo("hello world"));
    assertThat(UpnpHttp.parse(utf8("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nto the close")).body())
        .asString().isEqualTo("to the close");
  }

  @Test
  void brokenHttpIsAnErrorWithAReason() {
    assertThatThrownBy(() -> UpnpHttp.parse(utf8("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort")))
        .hasMessage("the body is shorter than its Content-Length 50");
    assertThatThrownBy(() -> UpnpHttp.parse(utf8("SSH-2.0-OpenSSH_9.2\r\n\r\n")))
        .hasMessage("the answer is not HTTP: \"SSH-2.0-OpenSSH_9.2\"");
    assertThatThrownBy(() -> UpnpHttp.parse(utf8("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")))
        .hasMessage("chunked body cut short");
    assertThatThrownBy(() -> UpnpHttp.parse(utf8("HTTP/1.1 200 OK\r\n"))).hasMessageContaining("no end of headers");
  }

  @Property(tries = 500)
  void httpGarbageIsAnErrorOrAnAnswer(@ForAll String garbage) {
    try {
      UpnpHttp.parse(("HTTP/1.1 200 OK\r\n" + garbage).getBytes(StandardCharsets.ISO_8859_1));
    } catch (java.io.IOException expected) {
      // fine: malformed HTTP is reported, never a runtime exception
    }
  }

  @Property(tries = 500)
  void garbageNeverThrows(@ForAll @Size(max = 200) byte[] garbage) {
    SsdpSearch.decode(ByteBuffer.wrap(garbage));
    SsdpResponse.decode(ByteBuffer.wrap(garbage));
    UpnpAction.decode(garbage);
    UpnpFault.decode(garbage);
    IgdService.find(garbage, LOCATION);
  }

  @Property(tries = 500)
  void textGarbageNeverThrows(@ForAll String garbage) {
    byte[] bytes = ("HTTP/1.1 200 OK\r\n" + garbage).getBytes(StandardCharsets.UTF_8);
    SsdpResponse.decode(ByteBuffer.wrap(bytes));
    String envelope = "<s:Envelope xmlns:s=\"" + UpnpXml.SOAP_ENVELOPE_NS + "\">";
    UpnpAction.decode((envelope + garbage).getBytes(StandardCharsets.UTF_8));
  }

  private static String description(String urlBase, String serviceType, String controlUrl) {
    return "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\">" + urlBase
        + "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><deviceList><device>"
        + "<serviceList>" + service(serviceType, controlUrl) + "</serviceList>"
        + "</device></deviceList></device></root>";
  }

  private static String service(String type, String controlUrl) {
    return "<service><serviceType>" + type + "</serviceType><controlURL>" + controlUrl + "</controlURL></service>";
  }

  private static ByteBuffer text(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
