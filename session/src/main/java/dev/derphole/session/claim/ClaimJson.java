package dev.derphole.session.claim;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Strict reading and compact writing of the claim and decision JSON. Bytes are base64url without
 * padding; a missing or mistyped field, a duplicate name, or more than {@value #MAX_BYTES} bytes is
 * a {@link ClaimException}. Unknown fields are ignored.
 */
final class ClaimJson {
  /** Largest claim or decision JSON. */
  static final int MAX_BYTES = 16 * 1024;

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64_DECODER = Base64.getUrlDecoder();

  private final String what;
  private final JsonNode root;

  private ClaimJson(String what, JsonNode root) {
    this.what = what;
    this.root = root;
  }

  static ObjectNode newObject() {
    return MAPPER.createObjectNode();
  }

  static ArrayNode strings(List<String> values) {
    ArrayNode array = MAPPER.createArrayNode();
    values.forEach(array::add);
    return array;
  }

  static String base64(byte[] bytes) {
    return B64.encodeToString(bytes);
  }

  static byte[] write(ObjectNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree failed to serialize", e);
    }
  }

  /** The top-level object of {@code json}, which names itself {@code what} in errors. */
  static ClaimJson read(byte[] json, String what) throws ClaimException {
    if (json.length > MAX_BYTES) {
      throw new ClaimException(what + " is larger than " + MAX_BYTES + " bytes");
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (IOException e) {
      throw new ClaimException(what + " is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw new ClaimException(what + " is not a JSON object");
    }
    return new ClaimJson(what, root);
  }

  JsonNode root() {
    return root;
  }

  long integer(String name) throws ClaimException {
    JsonNode n = field(name);
    if (!n.canConvertToLong() || !n.isIntegralNumber()) {
      throw wrong(name, "an integer");
    }
    return n.longValue();
  }

  boolean bool(String name) throws ClaimException {
    JsonNode n = field(name);
    if (!n.isBoolean()) {
      throw wrong(name, "true or false");
    }
    return n.booleanValue();
  }

  String text(String name) throws ClaimException {
    JsonNode n = field(name);
    if (!n.isTextual()) {
      throw wrong(name, "a string");
    }
    return n.textValue();
  }

  /** Base64url bytes of one of the given lengths. */
  byte[] bytes(String name, int... lengths) throws ClaimException {
    byte[] value;
    try {
      value = B64_DECODER.decode(text(name));
    } catch (IllegalArgumentException e) {
      throw wrong(name, "base64url");
    }
    for (int length : lengths) {
      if (value.length == length) {
        return value;
      }
    }
    throw new ClaimException(what + " field " + name + " has the wrong length");
  }

  List<String> stringList(String name) throws ClaimException {
    JsonNode n = field(name);
    if (!n.isArray()) {
      throw wrong(name, "an array");
    }
    List<String> out = new ArrayList<>(n.size());
    for (JsonNode element : n) {
      if (!element.isTextual()) {
        throw wrong(name, "an array of strings");
      }
      out.add(element.textValue());
    }
    return out;
  }

  private JsonNode field(String name) throws ClaimException {
    JsonNode n = root.get(name);
    if (n == null) {
      throw new ClaimException(what + " has no " + name);
    }
    return n;
  }

  private ClaimException wrong(String name, String expected) {
    return new ClaimException(what + " field " + name + " is not " + expected);
  }
}
