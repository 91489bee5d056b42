package dev.derphole.transport.portmap;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An Internet Gateway Device on loopback: an SSDP responder, the device description over HTTP and
 * a WANIPConnection (or other) service's SOAP control, all recorded. It behaves like miniupnpd
 * where that matters: 718 for a taken port, an empty external address when told to.
 */
final class FakeIgd implements AutoCloseable {
  static final String EXTERNAL = "203.0.113.9";
  static final String CONTROL_PATH = "/ctl/IPConn";
  static final Duration WAIT = Duration.ofSeconds(5);

  private final DatagramSocket ssdp;
  private final Thread ssdpThread;
  private final HttpServer http;

  final BlockingQueue<SsdpSearch> searches = new LinkedBlockingQueue<>();
  final BlockingQueue<UpnpAction> actions = new LinkedBlockingQueue<>();
  /** Paths requested over HTTP other than the description and the control URL. */
  final BlockingQueue<String> strayRequests = new LinkedBlockingQueue<>();
  /** External ports held by someone else: AddPortMapping answers 718. */
  final Set<Integer> taken = ConcurrentHashMap.newKeySet();
  /** External port → the AddPortMapping arguments that created it. */
  final Map<Integer, Map<String, String>> mappings = new ConcurrentHashMap<>();
  volatile String serviceType = "urn:schemas-upnp-org:service:WANIPConnection:1";
  volatile String externalAddress = EXTERNAL;
  volatile boolean onlyPermanentLeases;
  /** Where LOCATION points; by default our own description. */
  volatile URI location;
  /** Served instead of the normal description when set. */
  volatile String description;

  /** @param ssdpBind where the SSDP responder listens (a wildcard address answers from the kernel's choice) */
  FakeIgd(InetAddress ssdpBind) throws IOException {
    http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    http.createContext("/", this::serveHttp);
    http.start();
    location = URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/rootDesc.xml");
    ssdp = new DatagramSocket(new InetSocketAddress(ssdpBind, 0));
    ssdpThread = new Thread(this::serveSsdp, "fake-igd-ssdp");
    ssdpThread.setDaemon(true);
    ssdpThread.start();
  }

  FakeIgd() throws IOException {
    this(InetAddress.getLoopbackAddress());
  }

  int ssdpPort() {
    return ssdp.getLocalPort();
  }

  int httpPort() {
    return http.getAddress().getPort();
  }

  /** The next SOAP action, which must be {@code name}, within {@link #WAIT}. */
  UpnpAction next(String name) throws InterruptedException {
    UpnpAction action = actions.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(action).as("a %s within %s", name, WAIT).isNotNull();
    assertThat(action.name()).isEqualTo(name);
    return action;
  }

  private void serveSsdp() {
    byte[] buffer = new byte[2048];
    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
    while (!ssdp.isClosed()) {
      try {
        packet.setLength(buffer.length);
        ssdp.receive(packet);
        Optional<SsdpSearch> search = SsdpSearch.decode(ByteBuffer.wrap(buffer, 0, packet.getLength()));
        if (search.isEmpty()) {
          continue;
        }
        searches.add(search.get());
        if (search.get().searchTarget().startsWith("urn:schemas-upnp-org:device:InternetGatewayDevice:")) {
          byte[] answer = new SsdpResponse(search.get().searchTarget(), location).encode();
          ssdp.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
        }
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void serveHttp(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      if (path.equals("/rootDesc.xml") && exchange.getRequestMethod().equals("GET")) {
        String text = description != null ? description : description();
        send(exchange, 200, "text/xml", text.getBytes(StandardCharsets.UTF_8));
      } else if (path.equals(CONTROL_PATH) && exchange.getRequestMethod().equals("POST")) {
        control(exchange);
      } else {
        strayRequests.add(path);
        send(exchange, 404, "text/plain", new byte[0]);
      }
    }
  }

  private void control(HttpExchange exchange) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    Optional<UpnpAction> decoded = UpnpAction.decode(body);
    if (decoded.isEmpty()) {
      fault(exchange, new UpnpFault(Upnp.INVALID_ARGS, "Invalid Args"));
      return;
    }
    UpnpAction action = decoded.get();
    actions.add(action);
    String type = serviceType;
    if (!action.serviceType().equals(type)
        || !action.soapActionHeader().equals(exchange.getRequestHeaders().getFirst("SOAPAction"))) {
      fault(exchange, new UpnpFault(401, "Invalid Action"));
      return;
    }
    Map<String, String> args = action.arguments();
    switch (action.name()) {
      case Upnp.GET_EXTERNAL_IP_ADDRESS -> ok(exchange, action, Map.of("NewExternalIPAddress", externalAddress));
      case Upnp.ADD_PORT_MAPPING -> {
        int port = Integer.parseInt(args.get("NewExternalPort"));
        if (taken.contains(port)) {
          fault(exchange, new UpnpFault(Upnp.CONFLICT_IN_MAPPING_ENTRY, "ConflictInMappingEntry"));
        } else if (onlyPermanentLeases && !args.get("NewLeaseDuration").equals("0")) {
          fault(exchange, new UpnpFault(Upnp.ONLY_PERMANENT_LEASES_SUPPORTED, "OnlyPermanentLeasesSupported"));
        } else {
          mappings.put(port, args);
          ok(exchange, action, Map.of());
        }
      }
      case Upnp.DELETE_PORT_MAPPING -> {
        if (mappings.remove(Integer.parseInt(args.get("NewExternalPort"))) == null) {
          fault(exchange, new UpnpFault(Upnp.NO_SUCH_ENTRY_IN_ARRAY, "NoSuchEntryInArray"));
        } else {
          ok(exchange, action, Map.of());
        }
      }
      default -> fault(exchange, new UpnpFault(401, "Invalid Action"));
    }
  }

  private String description() {
    return "<?xml version=\"1.0\"?>"
        + "<root xmlns=\"urn:schemas-upnp-org:device-1-0\"><specVersion><major>1</major><minor>1</minor></specVersion>"
        + "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>"
        + "<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>"
        + "<controlURL>/ctl/L3F</controlURL></service></serviceList>"
        + "<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>"
        + "<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>"
        + "<serviceList><service><serviceType>" + serviceType + "</serviceType>"
        + "<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>"
        + "<controlURL>" + CONTROL_PATH + "</controlURL><eventSubURL>/evt/IPConn</eventSubURL>"
        + "<SCPDURL>/WANIPCn.xml</SCPDURL></service></serviceList>"
        + "</device></deviceList></device></deviceList></device></root>";
  }

  private void ok(HttpExchange exchange, UpnpAction action, Map<String, String> values) throws IOException {
    send(exchange, 200, "text/xml; charset=\"utf-8\"",
        new UpnpActionResponse(action.serviceType(), action.name(), values).encode());
  }

  private static void fault(HttpExchange exchange, UpnpFault fault) throws IOException {
    send(exchange, 500, "text/xml; charset=\"utf-8\"", fault.encode());
  }

  private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    ssdp.close();
    http.stop(0);
    MapperFixture.join(ssdpThread);
    assertThat(ssdpThread.isAlive()).as("fake SSDP thread ended").isFalse();
  }
}
