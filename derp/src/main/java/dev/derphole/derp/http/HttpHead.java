package dev.derphole.derp.http;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The start line and headers of one HTTP/1.1 message. DERP speaks HTTP only for the upgrade and a
 * few tiny endpoints, so this is all it needs: no bodies, no chunking, no keep-alive.
 *
 * @param startLine "GET /derp HTTP/1.1" or "HTTP/1.1 101 Switching Protocols"
 * @param headers names compared case-insensitively; a repeated name keeps its last value
 */
public record HttpHead(String startLine, Map<String, String> headers) {

  public HttpHead {
    TreeMap<String, String> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    copy.putAll(headers);
    headers = Collections.unmodifiableMap(copy);
  }

  public String header(String name) {
    return headers.get(name);
  }

  /** Request line parts: method, target, version; or an empty list when it is not a request line. */
  public List<String> requestParts() {
    String[] parts = startLine.split(" ", -1);
    if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
      return List.of();
    }
    return List.of(parts[0], parts[1], parts[2]);
  }

  /** Status code of a response line, or -1. */
  public int statusCode() {
    String[] parts = startLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      return -1;
    }
    try {
      return Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
