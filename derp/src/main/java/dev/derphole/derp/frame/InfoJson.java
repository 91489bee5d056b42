package dev.derphole.derp.frame;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/** Go-compatible JSON reading: names match case-insensitively, unknown fields are ignored. */
final class InfoJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private InfoJson() {}

  /** Top-level fields by lower-cased name. */
  static Map<String, JsonNode> fields(byte[] json, String what) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (java.io.IOException e) {
      throw new FrameException(what + " is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw new FrameException(what + " is not a JSON object");
    }
    Map<String, JsonNode> out = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue());
    }
    return out;
  }

  static long number(Map<String, JsonNode> f, String name, String what) {
    JsonNode n = f.get(name);
    if (n == null || n.isNull()) {
      return 0;
    }
    if (!n.isIntegralNumber()) {
      throw new FrameException(what + " field " + name + " is not an integer");
    }
    return n.asLong();
  }

  static boolean bool(Map<String, JsonNode> f, String name, String what) {
    JsonNode n = f.get(name);
    if (n == null || n.isNull()) {
      return false;
    }
    if (!n.isBoolean()) {
      throw new FrameException(what + " field " + name + " is not a boolean");
    }
    return n.asBoolean();
  }

  static String string(Map<String, JsonNode> f, String name, String what) {
    JsonNode n = f.get(name);
    if (n == null || n.isNull()) {
      return "";
    }
    if (!n.isTextual()) {
      throw new FrameException(what + " field " + name + " is not a string");
    }
    return n.asText();
  }

  static String quote(String s) {
    try {
      return MAPPER.writeValueAsString(s);
    } catch (JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }
}
