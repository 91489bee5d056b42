package dev.derphole.session.offer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.derphole.session.SessionException;
import dev.derphole.session.text.PeerText;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The first thing an offer's sender writes: what is coming, before any of it.
 *
 * <pre>
 *   "DHOFFER1" (8 bytes) ‖ u32 BE length (≤ 64 KiB) ‖ JSON, UTF-8:
 *   {"version":1, "kind":"file", "name":"a.jpg", "size":1572864, "files":1,
 *    "content_bytes":1572864, "verify":"7KQ2-MX4A-P9RT"}
 * </pre>
 *
 * {@code size} is the exact length of the body that follows (for a directory: of the tar stream);
 * {@code files} and {@code content_bytes} count regular files and their bytes (for display);
 * {@code verify} is the token's verification code, which the receiver compares with its own;
 * {@code resume} (optional, files and directories) names the content for a resumed transfer ({@link ResumeId}).
 * Unknown fields are ignored; missing or mistyped ones, and names that could leave the target
 * directory, are refused.
 *
 * <p>Kind {@code items} (several paths) has an empty {@code name} and one more field, {@code
 * "items":["a.txt","photos/"]}: each top-level name, a directory's with a trailing {@code /}, each
 * checked as {@code name} is, no two alike. Other kinds have no {@code items}, so their header is
 * byte for byte what it was.
 *
 * @param items the top-level names of an {@link OfferKind#ITEMS} offer; empty for other kinds
 */
public record OfferHeader(OfferKind kind, String name, long size, long files, long contentBytes, String verify,
                          java.util.List<String> items, String resume) {
  static final byte[] MAGIC = "DHOFFER1".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int MAX_JSON = 64 << 10;
  /** Largest text message: it is held in memory and printed only once verified. */
  public static final int MAX_TEXT = 16 << 20;
  /** Largest public key line. */
  public static final int MAX_SSH_KEY = 16 << 10;
  static final int MAX_NAME_BYTES = 255;
  /** Most top-level names in one {@link OfferKind#ITEMS} offer. */
  public static final int MAX_ITEMS = 1000;

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  public OfferHeader {
    if (kind == null || name == null || verify == null || items == null) {
      throw new IllegalArgumentException("kind, name, verify and items are required");
    }
    if ((kind == OfferKind.ITEMS) == items.isEmpty()) {
      throw new IllegalArgumentException("items go with kind items, and only with it: " + kind + " " + items.size());
    }
    items = java.util.List.copyOf(items);
    if (size < 0 || files < 0 || contentBytes < 0) {
      throw new IllegalArgumentException("negative size: " + size + "/" + files + "/" + contentBytes);
    }
    if (resume != null && !ResumeId.isWellFormed(resume)) {
      throw new IllegalArgumentException("resume id is not 64 hex digits: " + resume);
    }
  }

  /** A header of any kind but {@link OfferKind#ITEMS}, that does not ask to resume. */
  public OfferHeader(OfferKind kind, String name, long size, long files, long contentBytes, String verify) {
    this(kind, name, size, files, contentBytes, verify, java.util.List.of(), null);
  }

  /** A header that does not ask to resume. */
  public OfferHeader(OfferKind kind, String name, long size, long files, long contentBytes, String verify,
      java.util.List<String> items) {
    this(kind, name, size, files, contentBytes, verify, items, null);
  }

  /** The same offer, asking to resume a partial of the content that {@code id} names ({@link ResumeId}). */
  public OfferHeader withResume(String id) {
    return new OfferHeader(kind, name, size, files, contentBytes, verify, items, id);
  }

  /** The frame: magic, length, JSON. */
  public byte[] encode() {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("version", VERSION);
    o.put("kind", kind.jsonName());
    o.put("name", name);
    o.put("size", size);
    o.put("files", files);
    o.put("content_bytes", contentBytes);
    o.put("verify", verify);
    if (!items.isEmpty()) {
      items.forEach(o.putArray("items")::add);
    }
    if (resume != null) {
      o.put("resume", resume);
    }
    byte[] json;
    try {
      json = MAPPER.writeValueAsBytes(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    if (json.length > MAX_JSON) {
      throw new IllegalArgumentException("offer header too large: " + json.length + " bytes");
    }
    return ByteBuffer.allocate(MAGIC.length + 4 + json.length).put(MAGIC).putInt(json.length).put(json).array();
  }

  /** Reads and checks one header frame. */
  public static OfferHeader readFrom(InputStream in) throws SessionException, IOException {
    DataInputStream data = new DataInputStream(in);
    byte[] magic = new byte[MAGIC.length];
    try {
      data.readFully(magic);
    } catch (EOFException e) {
      throw new SessionException("the other side closed the transfer before saying what it sends");
    }
    if (!Arrays.equals(magic, MAGIC)) {
      throw new SessionException("the other side does not speak the derphole offer protocol (version 1)");
    }
    int length = data.readInt();
    if (length < 0 || length > MAX_JSON) {
      throw new SessionException("the offer header is too large (" + Integer.toUnsignedString(length) + " bytes)");
    }
    byte[] json = new byte[length];
    data.readFully(json);
    return decodeJson(json);
  }

  static OfferHeader decodeJson(byte[] json) throws SessionException {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (IOException e) {
      throw bad("not JSON");
    }
    if (root == null || !root.isObject()) {
      throw bad("not a JSON object");
    }
    JsonNode version = root.get("version");
    if (version == null || !version.isInt() || version.intValue() != VERSION) {
      throw new SessionException("the other side uses offer protocol version "
          + PeerText.printable(String.valueOf(version)) + "; this derphole speaks " + VERSION);
    }
    OfferKind kind = OfferKind.ofJsonName(text(root, "kind"))
        .orElseThrow(() -> bad("unknown kind " + PeerText.printable(String.valueOf(root.get("kind")))));
    String name = text(root, "name");
    long size = number(root, "size");
    long files = number(root, "files");
    long content = number(root, "content_bytes");
    String verify = text(root, "verify");
    String resume = null;
    if (root.has("resume")) {
      resume = text(root, "resume");
      if (!ResumeId.isWellFormed(resume) || (kind != OfferKind.FILE && kind != OfferKind.DIRECTORY)) {
        throw bad("\"resume\" is not 64 lowercase hex digits of a file or directory offer");
      }
    }
    switch (kind) {
      case FILE, DIRECTORY -> checkName(name);
      case TEXT -> {
        if (size > MAX_TEXT) {
          throw bad("text of " + size + " bytes (at most " + MAX_TEXT + ")");
        }
      }
      case SSH_KEY -> {
        if (size > MAX_SSH_KEY) {
          throw bad("public key of " + size + " bytes (at most " + MAX_SSH_KEY + ")");
        }
      }
      case ITEMS -> {
        if (!name.isEmpty()) {
          throw bad("a name beside the items");
        }
      }
    }
    if (hasControl(name) || hasControl(verify)) {
      throw bad("control characters in a name");
    }
    return new OfferHeader(kind, name, size, files, content, verify,
        kind == OfferKind.ITEMS ? items(root) : java.util.List.of(), resume);
  }

  /** The "items" of a several-paths offer: 1 to {@link #MAX_ITEMS} safe names, no two alike. */
  private static java.util.List<String> items(JsonNode root) throws SessionException {
    JsonNode n = root.get("items");
    if (n == null || !n.isArray() || n.isEmpty() || n.size() > MAX_ITEMS) {
      throw bad("missing or invalid \"items\" (1 to " + MAX_ITEMS + " names)");
    }
    java.util.List<String> items = new java.util.ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (JsonNode item : n) {
      if (!item.isTextual()) {
        throw bad("an item that is not a name");
      }
      String name = itemName(item.textValue());
      checkName(name);
      if (!seen.add(name)) {
        throw new SessionException("the sender offered " + quote(name) + " twice; refusing it");
      }
      items.add(item.textValue());
    }
    return items;
  }

  /** An item without the trailing {@code /} that marks a directory. */
  public static String itemName(String item) {
    return item.endsWith("/") ? item.substring(0, item.length() - 1) : item;
  }

  /**
   * A file or directory name must be one path component that stays in the target directory: not
   * empty, not {@code .} or {@code ..}, no {@code /} or NUL, no control characters, at most 255
   * UTF-8 bytes.
   */
  public static void checkName(String name) throws SessionException {
    if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0
        || hasControl(name) || name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
      throw new SessionException("the sender proposed an unsafe name " + quote(name) + "; refusing it");
    }
  }

  static boolean hasControl(String s) {
    return PeerText.hasControl(s);
  }

  /** A name as shown to the user: {@link PeerText#quoted}. */
  public static String quote(String name) {
    return PeerText.quoted(name);
  }

  private static String text(JsonNode root, String field) throws SessionException {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual()) {
      throw bad("missing or mistyped \"" + field + "\"");
    }
    return n.textValue();
  }

  private static long number(JsonNode root, String field) throws SessionException {
    JsonNode n = root.get(field);
    if (n == null || !n.canConvertToExactIntegral() || !n.canConvertToLong() || n.longValue() < 0) {
      throw bad("missing or invalid \"" + field + "\"");
    }
    return n.longValue();
  }

  private static SessionException bad(String why) {
    return new SessionException("the offer header is malformed: " + why);
  }
}
