package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * The HTTP/1.1 that UPnP control needs, over a plain socket: one request per connection
 * ({@code Connection: close}), the answer read to the end of the stream, its body framed by
 * Content-Length, chunked encoding or the close.
 *
 * <p>Not {@code HttpURLConnection}: it shares JVM-wide state (proxy selector, keep-alive cache),
 * and against the JDK's own HTTP server a POST that followed an error answer failed now and then
 * with "connection reset". Not Java 17's {@code HttpClient}: it cannot be closed and keeps a
 * selector thread per client until it is garbage collected. Here the socket is ours: the deadline
 * bounds every step and {@link PortMapper#close()} aborts it. No proxy, no redirect, no DNS (the
 * host must be an IP literal).
 */
final class UpnpHttp {
  /** Headers are a few hundred bytes; this leaves room for odd servers. */
  private static final int MAX_HEADER_BYTES = 16 * 1024;

  record Answer(int status, byte[] body) {}

  private UpnpHttp() {}

  static Answer get(InFlight inFlight, URI uri, Deadline deadline) throws IOException {
    return exchange(inFlight, "GET", uri, Map.of(), null, deadline);
  }

  static Answer post(InFlight inFlight, URI uri, Map<String, String> headers, byte[] body, Deadline deadline)
      throws IOException {
    return exchange(inFlight, "POST", uri, headers, body, deadline);
  }

  private static Answer exchange(InFlight inFlight, String method, URI uri, Map<String, String> headers, byte[] body,
      Deadline deadline) throws IOException {
    String what = method + " " + uri;
    if (!"http".equals(uri.getScheme())) {
      throw new IOException("UPnP: " + what + ": only plain http is spoken");
    }
    InetAddress host = IpLiteral.parseHost(uri.getHost())
        .orElseThrow(() -> new IOException("UPnP: " + what + ": the host is not an IP address"));
    int port = uri.getPort() == -1 ? 80 : uri.getPort();
    if (deadline.passed()) {
      throw new SocketTimeoutException("UPnP: " + what + ": out of time before it started");
    }
    Socket socket = inFlight.add(new Socket());
    try {
      socket.connect(new InetSocketAddress(host, port), deadline.remainingMillisForTimeout());
      OutputStream out = socket.getOutputStream();
      out.write(request(method, uri, headers, body));
      out.flush();
      return parse(readToEnd(socket, deadline));
    } catch (SocketTimeoutException e) {
      throw new SocketTimeoutException("UPnP: " + what + ": no complete answer in time");
    } catch (IOException e) {
      throw new IOException("UPnP: " + what + ": " + e.getMessage(), e);
    } finally {
      inFlight.finish(socket);
    }
  }

  private static byte[] request(String method, URI uri, Map<String, String> headers, byte[] body) {
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      path += "?" + uri.getRawQuery();
    }
    StringBuilder head = new StringBuilder()
        .append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
        .append("Host: ").append(uri.getRawAuthority()).append("\r\n")
        .append("Connection: close\r\n");
    headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    if (body != null) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("\r\n");
    byte[] start = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    if (body == null) {
      return start;
    }
    byte[] all = Arrays.copyOf(start, start.length + body.length);
    System.arraycopy(body, 0, all, start.length, body.length);
    return all;
  }

  private static byte[] readToEnd(Socket socket, Deadline deadline) throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    while (true) {
      if (deadline.passed()) {
        throw new SocketTimeoutException();
      }
      socket.setSoTimeout(deadline.remainingMillisForTimeout());
      int n = in.read(chunk);
      if (n < 0) {
        return all.toByteArray();
      }
      all.write(chunk, 0, n);
      if (all.size() > MAX_HEADER_BYTES + Upnp.MAX_BODY_BYTES) {
        throw new IOException("the answer is longer than " + Upnp.MAX_BODY_BYTES + " bytes");
      }
    }
  }

  /** Status line, headers, then the body as Content-Length or chunked encoding frame it. */
  static Answer parse(byte[] raw) throws IOException {
    int end = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
    if (end < 0 || end > MAX_HEADER_BYTES) {
      throw new IOException("the answer is not HTTP (no end of headers)");
    }
    String[] lines = new String(raw, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
    String[] status = lines[0].split(" ", 3);
    if (status.length < 2 || !status[0].startsWith("HTTP/1.") || !status[1].matches("[0-9]{3}")) {
      throw new IOException("the answer is not HTTP: \"" + lines[0] + "\"");
    }
    String contentLength = null;
    boolean chunked = false;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).trim();
      if (name.equals("content-length")) {
        contentLength = value;
      } else if (name.equals("transfer-encoding")) {
        chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
      }
    }
    byte[] body = Arrays.copyOfRange(raw, end + 4, raw.length);
    if (chunked) {
      body = dechunk(body);
    } else if (contentLength != null) {
      if (!contentLength.matches("[0-9]{1,9}") || Integer.parseInt(contentLength) > body.length) {
        throw new IOException("the body is shorter than its Content-Length " + contentLength);
      }
      body = Arrays.copyOf(body, Integer.parseInt(contentLength));
    }
    return new Answer(Integer.parseInt(status[1]), body);
  }

  /** RFC 9112 §7.1: hex size (extensions after ';' ignored), CRLF, data, CRLF; size 0 ends it. */
  private static byte[] dechunk(byte[] chunked) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] crlf = {'\r', '\n'};
    int at = 0;
    while (true) {
      int lineEnd = indexOf(chunked, crlf, at);
      if (lineEnd < 0) {
        throw new IOException("chunked body cut short");
      }
      String sizeText = new String(chunked, at, lineEnd - at, StandardCharsets.ISO_8859_1).split(";", 2)[0].trim();
      if (!sizeText.matches("[0-9A-Fa-f]{1,7}")) {
        throw new IOException("bad chunk size \"" + sizeText + "\"");
      }
      int size = Integer.parseInt(sizeText, 16);
      if (size == 0) {
        return out.toByteArray();
      }
      int dataStart = lineEnd + 2;
      if (dataStart + size > chunked.length) {
        throw new IOException("chunked body cut short");
      }
      out.write(chunked, dataStart, size);
      at = dataStart + size + 2;
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
