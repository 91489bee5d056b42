package dev.derphole.cli;

import java.net.InetSocketAddress;

/** The UDP half of {@code derptun serve}'s arguments. */
final class UdpServe {
  private UdpServe() {}

  /** {@code --udp HOST:PORT}, resolved once at start (a usage error if it does not parse or resolve). */
  static InetSocketAddress target(String text) {
    InetSocketAddress parsed;
    try {
      parsed = HostPort.parse(text, "127.0.0.1");
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException("--udp: " + e.getMessage());
    }
    if (parsed.getPort() == 0) {
      throw new Launcher.UsageException("--udp: needs a port, e.g. 127.0.0.1:51820");
    }
    if (parsed.isUnresolved()) {
      throw new Launcher.UsageException("--udp: cannot resolve \"" + parsed.getHostString() + "\"");
    }
    return parsed;
  }

  /** "127.0.0.1:22", "udp 127.0.0.1:53" or "127.0.0.1:22 and udp 127.0.0.1:53", for the serving line. */
  static String services(String tcp, String udp) {
    if (udp == null) {
      return tcp;
    }
    return tcp == null ? "udp " + udp : tcp + " and udp " + udp;
  }
}
