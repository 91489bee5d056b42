package dev.derphole.transport.portmap;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** {@code 192.168.1.1:5351} or {@code [fe80::1]:5351} for messages: no host name, no leading slash. */
final class HostPort {
  private HostPort() {}

  static String of(InetSocketAddress address) {
    if (address.isUnresolved()) {
      return address.getHostString() + ":" + address.getPort();
    }
    String host = address.getAddress().getHostAddress();
    return (address.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + address.getPort();
  }
}
