package dev.derphole.cli;

import java.net.InetSocketAddress;

/** Parses {@code host:port}, {@code :port}, {@code [v6]:port} and {@code port}. */
final class HostPort {
  private HostPort() {}

  static InetSocketAddress parse(String text, String defaultHost) {
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("bad address \"" + text + "\": want [v6-address]:port");
      }
      host = text.substring(1, close);
      port = text.substring(close + 2);
    } else if (text.indexOf(':') != text.lastIndexOf(':')) {
      throw new IllegalArgumentException("bad address \"" + text + "\": put IPv6 addresses in brackets, [::1]:port");
    } else if (text.contains(":")) {
      host = text.substring(0, text.indexOf(':'));
      port = text.substring(text.indexOf(':') + 1);
    } else {
      host = "";
      port = text;
    }
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port \"" + port + "\" in \"" + text + "\"");
    }
    if (p < 0 || p > 65535) {
      throw new IllegalArgumentException("port " + p + " out of range in \"" + text + "\"");
    }
    if (host.isEmpty()) {
      host = defaultHost;
    }
    return host == null ? new InetSocketAddress(p) : new InetSocketAddress(host, p);
  }
}
