package dev.derphole.transport.portmap;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * SSDP, UPnP's discovery (UPnP Device Architecture 1.1 §1.3): HTTP-shaped text over UDP, a search
 * ({@link SsdpSearch}) to the multicast group and the devices' unicast answers ({@link
 * SsdpResponse}). Lines end in CRLF, header names are case-insensitive, a blank line ends the
 * message.
 */
final class Ssdp {
  static final int PORT = 1900;
  static final InetSocketAddress MULTICAST = new InetSocketAddress(ipv4(239, 255, 255, 250), PORT);
  /** Seconds a device may wait before answering a multicast search, to spread the answers. */
  static final int MAX_WAIT_SECONDS = 1;

  private Ssdp() {}

  /** A parsed message: its start line and its headers, keyed in upper case. */
  record Message(String startLine, Map<String, String> headers) {}

  /** Empty unless the bytes are a start line and well-formed header lines. */
  static Optional<Message> parse(ByteBuffer bytes) {
    byte[] raw = new byte[bytes.remaining()];
    bytes.get(raw);
    String[] lines = new String(raw, StandardCharsets.ISO_8859_1).split("\r?\n", -1);
    if (lines.length < 2 || lines[0].isBlank()) {
      return Optional.empty();
    }
    Map<String, String> headers = new TreeMap<>();
    for (int i = 1; i < lines.length && !lines[i].isEmpty(); i++) {
      int colon = lines[i].indexOf(':');
      if (colon <= 0) {
        return Optional.empty();
      }
      headers.put(lines[i].substring(0, colon).trim().toUpperCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    return Optional.of(new Message(lines[0].trim(), headers));
  }

  static byte[] format(String startLine, Map<String, String> headers) {
    StringBuilder text = new StringBuilder(startLine).append("\r\n");
    headers.forEach((name, value) -> text.append(name).append(": ").append(value).append("\r\n"));
    return text.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static InetAddress ipv4(int a, int b, int c, int d) {
    try {
      return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    } catch (UnknownHostException impossible) {
      throw new AssertionError("4 bytes are always an IPv4 address", impossible);
    }
  }
}
