package dev.derphole.cli;

import java.net.InetSocketAddress;

/** Parses {@code host:port}, {@code :port}, {@code [v6]:port} ({@link dev.derphole.derp.net.HostPort}) and {@code port}. */
final class HostPort {
  private HostPort() {}

  static InetSocketAddress parse(String text, String defaultHost) {
    dev.derphole.derp.net.HostPort split = dev.derphole.derp.net.HostPort.parseOrPort(text);
    String host = split.host().isEmpty() ? defaultHost : split.host();
    return host == null ? new InetSocketAddress(split.port()) : new InetSocketAddress(host, split.port());
  }
}
