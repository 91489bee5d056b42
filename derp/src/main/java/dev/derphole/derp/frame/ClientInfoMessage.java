package dev.derphole.derp.frame;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;

/**
 * The JSON sealed inside a ClientInfo frame. Written the way Go writes it
 * ({@code {"version":2,"CanAckPings":true}}), read case-insensitively with unknown fields ignored.
 *
 * @param meshKey 64 hex characters, or empty for a regular client
 */
public record ClientInfoMessage(String meshKey, int version, boolean canAckPings, boolean isProber, String appName) {

  public ClientInfoMessage {
    meshKey = meshKey == null ? "" : meshKey;
    appName = appName == null ? "" : appName;
    if (!meshKey.isEmpty() && !isMeshKey(meshKey)) {
      throw new IllegalArgumentException("meshKey must be 64 hex characters");
    }
  }

  /** What our client sends: protocol version 2, able to answer pings. */
  public static ClientInfoMessage standard() {
    return new ClientInfoMessage("", DerpProtocol.PROTOCOL_VERSION, true, false, "");
  }

  public byte[] toJson() {
    StringBuilder sb = new StringBuilder("{");
    if (!meshKey.isEmpty()) {
      sb.append("\"meshKey\":").append(InfoJson.quote(meshKey)).append(',');
    }
    if (version != 0) {
      sb.append("\"version\":").append(version).append(',');
    }
    sb.append("\"CanAckPings\":").append(canAckPings);
    if (isProber) {
      sb.append(",\"IsProber\":true");
    }
    if (!appName.isEmpty()) {
      sb.append(",\"AppName\":").append(InfoJson.quote(appName));
    }
    return sb.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  /** @throws FrameException on malformed JSON, wrong field types or a mesh key that is not 64 hex chars */
  public static ClientInfoMessage parse(byte[] json) {
    String what = "ClientInfo";
    Map<String, JsonNode> f = InfoJson.fields(json, what);
    String mesh = InfoJson.string(f, "meshkey", what);
    if (!mesh.isEmpty() && !isMeshKey(mesh)) {
      throw new FrameException("ClientInfo meshKey is not 64 hex characters");
    }
    return new ClientInfoMessage(
        mesh,
        (int) InfoJson.number(f, "version", what),
        InfoJson.bool(f, "canackpings", what),
        InfoJson.bool(f, "isprober", what),
        InfoJson.string(f, "appname", what));
  }

  private static boolean isMeshKey(String s) {
    if (s.length() != 64) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!HexFormat.isHexDigit(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }
}
