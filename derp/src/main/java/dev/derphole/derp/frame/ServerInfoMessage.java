package dev.derphole.derp.frame;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The JSON sealed inside a ServerInfo frame: {@code {"version":2}} plus, when the server rate-limits
 * each client, its token bucket. Zero fields are omitted, as Go does.
 */
public record ServerInfoMessage(int version, long tokenBucketBytesPerSecond, long tokenBucketBytesBurst) {

  public static ServerInfoMessage standard() {
    return new ServerInfoMessage(DerpProtocol.PROTOCOL_VERSION, 0, 0);
  }

  public byte[] toJson() {
    StringBuilder sb = new StringBuilder("{");
    String sep = "";
    if (version != 0) {
      sb.append("\"version\":").append(version);
      sep = ",";
    }
    if (tokenBucketBytesPerSecond != 0) {
      sb.append(sep).append("\"TokenBucketBytesPerSecond\":").append(tokenBucketBytesPerSecond);
      sep = ",";
    }
    if (tokenBucketBytesBurst != 0) {
      sb.append(sep).append("\"TokenBucketBytesBurst\":").append(tokenBucketBytesBurst);
    }
    return sb.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  public static ServerInfoMessage parse(byte[] json) {
    String what = "ServerInfo";
    Map<String, JsonNode> f = InfoJson.fields(json, what);
    return new ServerInfoMessage(
        (int) InfoJson.number(f, "version", what),
        InfoJson.number(f, "tokenbucketbytespersecond", what),
        InfoJson.number(f, "tokenbucketbytesburst", what));
  }
}
