package dev.derphole.derp.client;

import dev.derphole.derp.net.IpLiteral;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Which HTTP proxy, if any, carries a connection, read from the environment the way Go's
 * {@code net/http} (golang.org/x/net/http/httpproxy) and curl read it:
 *
 * <ul>
 *   <li>{@code HTTPS_PROXY} (or {@code https_proxy}) for https targets, {@code HTTP_PROXY} (or
 *       {@code http_proxy}) for plain http ones; {@code ALL_PROXY} (or {@code all_proxy}) for both
 *       when the scheme's own variable is unset. The upper-case name wins; an empty value is unset.
 *   <li>The value is a URL, {@code http://[user:password@]host[:port]}; without a scheme it is
 *       taken as {@code http://} (as Go does), without a port as port 80 (Go's default; curl's is
 *       1080). User and password are percent-decoded and sent as Basic credentials in the
 *       CONNECT's {@code Proxy-Authorization}. Only plain-HTTP proxies are supported.
 *   <li>{@code NO_PROXY} (or {@code no_proxy}): a comma-separated list; {@code *} alone turns the
 *       proxy off; an IP address or CIDR range matches targets given as that IP literal; a domain
 *       name matches itself and its subdomains, {@code .example.com} (or {@code *.example.com})
 *       only the subdomains; any entry may end in {@code :port} to match that port only.
 *       Matching ignores case and a trailing dot. Loopback targets are proxied unless listed
 *       (Go exempts them; we do not, so that a proxy on this machine can be tested).
 * </ul>
 *
 * <p>{@link #toString()} and {@link Proxy#toString()} never show the password.
 */
public final class ProxyConfig {
  /** No proxy for anything. */
  public static final ProxyConfig NONE = new ProxyConfig(null, null, List.of(), false);

  private static volatile ProxyConfig environment;

  private final Proxy https;
  private final Proxy http;
  private final List<NoProxyEntry> noProxy;
  private final boolean noProxyAll;

  private ProxyConfig(Proxy https, Proxy http, List<NoProxyEntry> noProxy, boolean noProxyAll) {
    this.https = https;
    this.http = http;
    this.noProxy = List.copyOf(noProxy);
    this.noProxyAll = noProxyAll;
  }

  /** An HTTP proxy: where it listens and, optionally, Basic credentials. */
  public record Proxy(String host, int port, String user, String password, String variable) {
    public Proxy {
      Objects.requireNonNull(host, "host");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("proxy port out of range: " + port);
      }
    }

    /** Whether a Proxy-Authorization header goes with the CONNECT. */
    public boolean hasCredentials() {
      return user != null;
    }

    /** {@code http://user@host:port}: never the password. */
    @Override
    public String toString() {
      String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
      return "http://" + (user != null ? user + "@" : "") + h + ":" + port;
    }
  }

  /**
   * The configuration of this process's environment, parsed once.
   *
   * @throws IllegalArgumentException naming the variable when a proxy URL cannot be used
   */
  public static ProxyConfig environment() {
    ProxyConfig c = environment;
    if (c == null) {
      c = fromEnvironment(System.getenv());
      environment = c;
    }
    return c;
  }

  /**
   * Parses the proxy variables of {@code env}.
   *
   * @throws IllegalArgumentException with a one-line message naming the variable at fault
   */
  public static ProxyConfig fromEnvironment(Map<String, String> env) {
    Objects.requireNonNull(env, "env");
    Proxy all = parseVariable(env, "ALL_PROXY");
    Proxy https = parseVariable(env, "HTTPS_PROXY");
    Proxy http = parseVariable(env, "HTTP_PROXY");
    String noProxyText = first(env, "NO_PROXY");
    List<NoProxyEntry> entries = new ArrayList<>();
    boolean allExempt = false;
    if (noProxyText != null) {
      for (String raw : noProxyText.split(",")) {
        String entry = raw.trim().toLowerCase(Locale.ROOT);
        if (entry.isEmpty()) {
          continue;
        }
        if (entry.equals("*")) {
          allExempt = true;
          continue;
        }
        NoProxyEntry.parse(entry).ifPresent(entries::add);
      }
    }
    return new ProxyConfig(https != null ? https : all, http != null ? http : all, entries, allExempt);
  }

  /**
   * The proxy for a connection to {@code host:port}, empty for a direct connection.
   *
   * @param tls whether the target is https (HTTPS_PROXY) or plain http (HTTP_PROXY)
   * @param host a DNS name or an IP literal (IPv6 with or without brackets)
   */
  public Optional<Proxy> forTarget(boolean tls, String host, int port) {
    Proxy p = tls ? https : http;
    if (p == null || noProxyAll) {
      return Optional.empty();
    }
    String h = normalizeHost(host);
    Optional<InetAddress> ip = IpLiteral.parse(h);
    for (NoProxyEntry e : noProxy) {
      if (e.matches(h, ip, port)) {
        return Optional.empty();
      }
    }
    return Optional.of(p);
  }

  /** Whether any proxy is configured at all (NO_PROXY aside). */
  public boolean isEmpty() {
    return https == null && http == null;
  }

  @Override
  public String toString() {
    if (isEmpty()) {
      return "no proxy";
    }
    String through = https != null && https.equals(http) ? "https and http through " + https + " (" + https.variable() + ")"
        : (https != null ? "https through " + https + " (" + https.variable() + ")" : "https direct")
            + ", " + (http != null ? "http through " + http + " (" + http.variable() + ")" : "http direct");
    return through + (noProxyAll ? "; NO_PROXY * (so nothing is proxied)"
        : noProxy.isEmpty() ? "" : "; NO_PROXY exempts " + noProxy.size() + (noProxy.size() == 1 ? " entry" : " entries"));
  }

  // ---- parsing

  private static String first(Map<String, String> env, String upper) {
    for (String name : List.of(upper, upper.toLowerCase(Locale.ROOT))) {
      String v = env.get(name);
      if (v != null && !v.isBlank()) {
        return v.trim();
      }
    }
    return null;
  }

  private static String firstName(Map<String, String> env, String upper) {
    String v = env.get(upper);
    return v != null && !v.isBlank() ? upper : upper.toLowerCase(Locale.ROOT);
  }

  private static Proxy parseVariable(Map<String, String> env, String upper) {
    String value = first(env, upper);
    if (value == null) {
      return null;
    }
    return parseUrl(firstName(env, upper), value);
  }

  /**
   * One proxy URL. The message names the variable and never repeats the password.
   *
   * @throws IllegalArgumentException when the URL cannot be used
   */
  static Proxy parseUrl(String variable, String value) {
    String text = value.contains("://") ? value : "http://" + value;
    String bad = variable + " is not a usable proxy URL";
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(bad + ": " + withoutPassword(value) + " is not a URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http")) {
      throw new IllegalArgumentException(bad + ": only http:// proxies are supported, got " + scheme + "://");
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException(bad + ": " + withoutPassword(value) + " has no host");
    }
    String path = uri.getRawPath();
    if ((path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(bad + ": " + withoutPassword(value) + " has a path; give just host and port");
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() == -1 ? 80 : uri.getPort();
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(bad + ": port " + port + " is out of range");
    }
    String user = null;
    String password = null;
    String info = uri.getRawUserInfo();
    if (info != null) {
      int colon = info.indexOf(':');
      try {
        user = URLDecoder.decode(colon < 0 ? info : info.substring(0, colon), StandardCharsets.UTF_8);
        password = colon < 0 ? "" : URLDecoder.decode(info.substring(colon + 1), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(bad + ": bad percent-encoding in its user or password");
      }
    }
    return new Proxy(host, port, user, password, variable);
  }

  /** For messages: the text with anything between ':' and '@' after the scheme masked. */
  static String withoutPassword(String value) {
    int at = value.lastIndexOf('@');
    if (at < 0) {
      return value;
    }
    int start = value.indexOf("://");
    start = start < 0 ? 0 : start + 3;
    int colon = value.indexOf(':', start);
    return colon >= 0 && colon < at ? value.substring(0, colon) + ":***" + value.substring(at) : value;
  }

  static String normalizeHost(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h;
  }

  /** One NO_PROXY entry: a CIDR range, an IP, or a domain (suffix), each with an optional port. */
  record NoProxyEntry(BigInteger network, int prefix, int family, String domain, boolean subdomainsOnly, int port) {

    static Optional<NoProxyEntry> parse(String entry) {
      // CIDR first: "10.0.0.0/8", "fd00::/8" (a port makes no sense there).
      int slash = entry.indexOf('/');
      if (slash > 0) {
        Optional<InetAddress> net = IpLiteral.parse(entry.substring(0, slash));
        int prefix;
        try {
          prefix = Integer.parseInt(entry.substring(slash + 1));
        } catch (NumberFormatException e) {
          return Optional.empty();
        }
        if (net.isEmpty() || prefix < 0 || prefix > net.get().getAddress().length * 8) {
          return Optional.empty(); // Go skips what it cannot parse, too
        }
        byte[] b = net.get().getAddress();
        return Optional.of(new NoProxyEntry(new BigInteger(1, b), prefix, b.length, null, false, 0));
      }
      String host = entry;
      int port = 0;
      // "host:port", "[v6]:port", "1.2.3.4:port"; a bare IPv6 literal has several colons.
      if (host.startsWith("[")) {
        int close = host.indexOf(']');
        if (close < 0) {
          return Optional.empty();
        }
        String rest = host.substring(close + 1);
        host = host.substring(1, close);
        if (rest.startsWith(":")) {
          port = parsePort(rest.substring(1));
          if (port < 0) {
            return Optional.empty();
          }
        }
      } else if (host.indexOf(':') >= 0 && host.indexOf(':') == host.lastIndexOf(':')) {
        port = parsePort(host.substring(host.indexOf(':') + 1));
        if (port < 0) {
          return Optional.empty();
        }
        host = host.substring(0, host.indexOf(':'));
      }
      Optional<InetAddress> ip = IpLiteral.parse(host);
      if (ip.isPresent()) {
        byte[] b = ip.get().getAddress();
        return Optional.of(new NoProxyEntry(new BigInteger(1, b), b.length * 8, b.length, null, false, port));
      }
      boolean subdomainsOnly = false;
      if (host.startsWith("*.")) {
        host = host.substring(1);
      }
      if (host.startsWith(".")) {
        subdomainsOnly = true;
        host = host.substring(1);
      }
      if (host.endsWith(".")) {
        host = host.substring(0, host.length() - 1);
      }
      if (host.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(new NoProxyEntry(null, 0, 0, host, subdomainsOnly, port));
    }

    private static int parsePort(String text) {
      try {
        int p = Integer.parseInt(text);
        return p >= 1 && p <= 65535 ? p : -1;
      } catch (NumberFormatException e) {
        return -1;
      }
    }

    boolean matches(String host, Optional<InetAddress> ip, int targetPort) {
      if (port != 0 && port != targetPort) {
        return false;
      }
      if (domain == null) {
        if (ip.isEmpty()) {
          return false;
        }
        byte[] b = ip.get().getAddress();
        if (b.length != family) {
          return false;
        }
        int bits = family * 8;
        BigInteger mask = prefix == 0 ? BigInteger.ZERO
            : BigInteger.ONE.shiftLeft(prefix).subtract(BigInteger.ONE).shiftLeft(bits - prefix);
        return new BigInteger(1, b).and(mask).equals(network.and(mask));
      }
      if (ip.isPresent()) {
        return false;
      }
      return host.endsWith("." + domain) || (!subdomainsOnly && host.equals(domain));
    }
  }
}
