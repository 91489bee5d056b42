package dev.derphole.session.claim;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.derphole.session.text.PeerText;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The issuer's answer to a claim, sealed in a {@link EnvelopeKind#DECISION} envelope.
 *
 * <pre>
 * {"accepted":true,"claim_nonce":"&lt;base64url of 16 bytes&gt;",
 *  "candidates":["198.51.100.4:53012"]}
 *
 * {"accepted":false,"claim_nonce":"&lt;base64url of 16 bytes, or empty&gt;",
 *  "reject_code":"claimed","reject_reason":"session already claimed"}
 * </pre>
 *
 * @param accepted whether the session is the claimant's
 * @param claimNonce the nonce of the claim this answers; empty only in a reject of a claim whose
 *     nonce could not be read
 * @param candidates the issuer's UDP candidates (accepts only)
 * @param rejectCode machine-readable reason, {@code [a-z_]}, 1-32 characters (rejects only; empty
 *     in an accept)
 * @param rejectReason one line for the claimant's user, at most {@value #MAX_REASON_LENGTH}
 *     characters before its control characters are escaped (rejects only; empty in an accept)
 */
public record Decision(
    boolean accepted,
    byte[] claimNonce,
    List<String> candidates,
    String rejectCode,
    String rejectReason) {

  /** Longest reject reason. */
  public static final int MAX_REASON_LENGTH = 200;

  private static final int MAX_CODE_LENGTH = 32;

  /** Checks the shape; a reject reason's control characters are escaped ({@link PeerText}). */
  public Decision {
    Objects.requireNonNull(claimNonce, "claimNonce");
    Objects.requireNonNull(candidates, "candidates");
    Objects.requireNonNull(rejectCode, "rejectCode");
    Objects.requireNonNull(rejectReason, "rejectReason");
    if (accepted) {
      if (claimNonce.length != Claim.NONCE_LENGTH || !rejectCode.isEmpty()
          || !rejectReason.isEmpty()) {
        throw new IllegalArgumentException(
            "an accept needs a 16-byte claim nonce and no reject code or reason");
      }
    } else {
      if ((claimNonce.length != 0 && claimNonce.length != Claim.NONCE_LENGTH)
          || !candidates.isEmpty() || !isCode(rejectCode)
          || rejectReason.length() > MAX_REASON_LENGTH) {
        throw new IllegalArgumentException(
            "a reject needs an empty or 16-byte claim nonce, no candidates, a code of 1-32 of"
                + " [a-z_] and a reason of at most " + MAX_REASON_LENGTH + " characters");
      }
    }
    claimNonce = claimNonce.clone();
    candidates = List.copyOf(candidates);
    rejectReason = PeerText.printable(rejectReason); // shown on a terminal: no escape sequences, no line breaks
  }

  /** Accepts the claim with this nonce; the claimant may reach us at {@code candidates}. */
  public static Decision accept(byte[] claimNonce, List<String> candidates) {
    return new Decision(true, claimNonce, candidates, "", "");
  }

  /** Refuses the claim with this nonce (or an empty array if it could not be read). */
  public static Decision reject(byte[] claimNonce, String code, String reason) {
    return new Decision(false, claimNonce, List.of(), code, reason);
  }

  /** Compact UTF-8 JSON, as shown above. */
  public byte[] toJson() {
    ObjectNode o = ClaimJson.newObject();
    o.put("accepted", accepted);
    o.put("claim_nonce", ClaimJson.base64(claimNonce));
    if (accepted) {
      o.set("candidates", ClaimJson.strings(candidates));
    } else {
      o.put("reject_code", rejectCode);
      o.put("reject_reason", rejectReason);
    }
    return ClaimJson.write(o);
  }

  /**
   * Reads decision JSON: an accept needs {@code candidates}, a reject {@code reject_code} and {@code
   * reject_reason}. Unknown fields are ignored.
   *
   * @throws ClaimException if the JSON is malformed or a field is missing or invalid
   */
  public static Decision parse(byte[] json) throws ClaimException {
    ClaimJson j = ClaimJson.read(json, "decision");
    boolean accepted = j.bool("accepted");
    try {
      if (accepted) {
        return accept(j.bytes("claim_nonce", Claim.NONCE_LENGTH), j.stringList("candidates"));
      }
      String reason = j.text("reject_reason");
      if (reason.length() > MAX_REASON_LENGTH) {
        int end = MAX_REASON_LENGTH;
        if (Character.isHighSurrogate(reason.charAt(end - 1))) {
          end--;
        }
        reason = reason.substring(0, end);
      }
      return reject(j.bytes("claim_nonce", 0, Claim.NONCE_LENGTH), j.text("reject_code"), reason);
    } catch (IllegalArgumentException e) {
      throw new ClaimException("decision is not a valid accept or reject");
    }
  }

  /** A copy of the claim nonce. */
  @Override
  public byte[] claimNonce() {
    return claimNonce.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Decision other
        && accepted == other.accepted
        && Arrays.equals(claimNonce, other.claimNonce)
        && candidates.equals(other.candidates)
        && rejectCode.equals(other.rejectCode)
        && rejectReason.equals(other.rejectReason);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        accepted, Arrays.hashCode(claimNonce), candidates, rejectCode, rejectReason);
  }

  @Override
  public String toString() {
    String nonce = HexFormat.of().formatHex(claimNonce);
    return accepted
        ? "Decision[accept " + nonce + " candidates=" + candidates + "]"
        : "Decision[reject " + nonce + " " + rejectCode + ": " + rejectReason + "]";
  }

  private static boolean isCode(String code) {
    if (code.isEmpty() || code.length() > MAX_CODE_LENGTH) {
      return false;
    }
    for (int i = 0; i < code.length(); i++) {
      char c = code.charAt(i);
      if ((c < 'a' || c > 'z') && c != '_') {
        return false;
      }
    }
    return true;
  }
}
