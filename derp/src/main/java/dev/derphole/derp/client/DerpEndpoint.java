package dev.derphole.derp.client;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Where and how to reach one DERP server.
 *
 * @param hostName used for the Host header, TLS SNI and certificate checks
 * @param port TCP port
 * @param tls TLS (the public fleet) or plain HTTP (development, tests)
 * @param addresses literal addresses to dial, in order; empty means resolve {@code hostName}
 * @param certName when set, {@code sha256-raw:<hex>} pins the leaf certificate, or a name checked
 *     instead of {@code hostName}
 * @param insecureForTests skip certificate verification entirely
 */
public record DerpEndpoint(String hostName, int port, boolean tls, List<InetSocketAddress> addresses,
                           String certName, boolean insecureForTests) {

  public DerpEndpoint {
    Objects.requireNonNull(hostName, "hostName");
    if (hostName.isEmpty()) {
      throw new IllegalArgumentException("DERP host name is empty");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("DERP port out of range: " + port);
    }
    addresses = List.copyOf(addresses);
    certName = certName == null ? "" : certName;
  }

  /**
   * From a URL such as {@code https://derp.example.com/derp} or {@code http://127.0.0.1:3340}. The
   * path is ignored (it is always {@code /derp}).
   */
  public static DerpEndpoint of(URI uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    boolean tls;
    switch (scheme) {
      case "https", "derps" -> tls = true;
      case "http", "derp" -> tls = false;
      default -> throw new IllegalArgumentException("DERP URL must start with https:// or http://, got " + uri);
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("DERP URL has no host: " + uri);
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() > 0 ? uri.getPort() : (tls ? 443 : 80);
    List<InetSocketAddress> literal = new ArrayList<>();
    if (isIpLiteral(host)) {
      literal.add(new InetSocketAddress(literalAddress(host), port));
    }
    return new DerpEndpoint(host, port, tls, literal, "", false);
  }

  /**
   * A node of a DERP map: TLS unless the node says {@code PlainHTTP}; its IP literals are dialed
   * without DNS, otherwise its HostName is resolved at each dial.
   */
  public static DerpEndpoint of(dev.derphole.derp.map.DerpNode node) {
    if (node.stunOnly()) {
      throw new IllegalArgumentException("node " + node.name() + " is STUN-only; it has no DERP server");
    }
    List<InetSocketAddress> literal = new ArrayList<>();
    for (String ip : List.of(node.ipv4(), node.ipv6())) {
      if (!ip.isEmpty() && isIpLiteral(ip)) {
        literal.add(new InetSocketAddress(literalAddress(ip), node.effectiveDerpPort()));
      }
    }
    return new DerpEndpoint(node.hostName(), node.effectiveDerpPort(), !node.plainHttp(), literal,
        node.certName(), node.insecureForTests());
  }

  /** The value of the Host header: the name, plus ":port" when it is not the scheme's default. */
  public String hostHeader() {
    String h = hostName.contains(":") ? "[" + hostName + "]" : hostName;
    int defaultPort = tls ? 443 : 80;
    return port == defaultPort ? h : h + ":" + port;
  }

  public URI uri() {
    return URI.create((tls ? "https://" : "http://") + hostHeader() + "/derp");
  }

  /** Addresses to dial: the literals, or DNS answers for the host name. */
  public List<InetSocketAddress> resolve() throws UnknownHostException {
    if (!addresses.isEmpty()) {
      return addresses;
    }
    return resolveName();
  }

  /**
   * DNS answers for the host name, whatever the literals: {@link DerpClient#connect} tries them
   * when no literal worked.
   */
  public List<InetSocketAddress> resolveName() throws UnknownHostException {
    List<InetSocketAddress> out = new ArrayList<>();
    for (InetAddress a : InetAddress.getAllByName(hostName)) {
      out.add(new InetSocketAddress(a, port));
    }
    return out;
  }

  @Override
  public String toString() {
    return uri().toString();
  }

  static boolean isIpLiteral(String host) {
    return dev.derphole.derp.net.IpLiteral.parse(host).isPresent();
  }

  private static InetAddress literalAddress(String host) {
    try {
      return InetAddress.getByName(host); // a literal: no DNS lookup happens
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("bad IP address in DERP URL: " + host);
    }
  }
}
