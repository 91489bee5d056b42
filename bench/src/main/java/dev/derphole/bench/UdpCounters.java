package dev.derphole.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel's UDP counters from {@code /proc/net/snmp}: a datagram dropped because a socket's
 * receive buffer was full shows up as {@code RcvbufErrors}. Machine-wide; -1 where unreadable.
 */
record UdpCounters(long rcvbufErrors, long sndbufErrors) {
  static UdpCounters now() {
    try {
      List<String> udp = Files.readAllLines(Path.of("/proc/net/snmp")).stream().filter(l -> l.startsWith("Udp:")).toList();
      List<String> names = List.of(udp.get(0).split("\\s+"));
      String[] values = udp.get(1).split("\\s+");
      return new UdpCounters(Long.parseLong(values[names.indexOf("RcvbufErrors")]),
          Long.parseLong(values[names.indexOf("SndbufErrors")]));
    } catch (IOException | RuntimeException e) {
      return new UdpCounters(-1, -1);
    }
  }
}
