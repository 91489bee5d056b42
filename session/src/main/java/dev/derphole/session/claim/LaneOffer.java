package dev.derphole.session.claim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * How many direct lanes (issue #34) each side allows, as an optional field {@code "lanes":N} of the
 * claim (the claimant's most) and of an accepting decision (the number agreed: the smaller of the
 * two). Absent means 1, and a side that allows only one lane leaves the field out, so a one-lane
 * session's claim and decision are byte for byte what they were before lanes. A peer that predates
 * lanes ignores the field (claim and decision parsers ignore unknown fields) and never writes it,
 * so the other side agrees on 1.
 */
public final class LaneOffer {
  /** Most lanes a transfer can have. */
  public static final int MAX_LANES = 16;
  static final String FIELD = "lanes";

  private LaneOffer() {}

  /** {@code json} with {@code "lanes":lanes} appended when more than one lane is allowed. */
  static byte[] withLanes(byte[] json, int lanes) {
    if (lanes <= 1) {
      return json;
    }
    try {
      ObjectNode o = (ObjectNode) ClaimJson.read(json, "message").root();
      o.put(FIELD, Math.min(lanes, MAX_LANES));
      return ClaimJson.write(o);
    } catch (ClaimException e) {
      throw new IllegalStateException("our own JSON did not parse", e);
    }
  }

  /** The lanes {@code json} allows: 1 when the field is missing, not an integer, or outside 1..16. */
  static int lanesOf(byte[] json) {
    try {
      JsonNode n = ClaimJson.read(json, "message").root().path(FIELD);
      if (!n.isIntegralNumber() || !n.canConvertToInt()) {
        return 1;
      }
      int v = n.intValue();
      return v >= 1 && v <= MAX_LANES ? v : 1;
    } catch (ClaimException e) {
      return 1;
    }
  }
}
