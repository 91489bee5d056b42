package dev.derphole.session.claim;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.transport.candidate.CandidatePolicy;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.CompressedP256;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a claimant sends, sealed in a {@link EnvelopeKind#CLAIM} envelope, to take a session.
 *
 * <pre>
 * {"version":1,"capability":"share",
 *  "claimant_derp_key":"nodekey:&lt;64 hex&gt;",
 *  "claimant_tls_key":"&lt;base64url of 33 bytes&gt;",
 *  "candidates":["203.0.113.7:41641","[2001:db8::7]:41641"],
 *  "nonce":"&lt;base64url of 16 bytes&gt;",
 *  "created":1767225600}
 * </pre>
 *
 * @param version claim version, 1 for this build (others are refused by the gate, not here)
 * @param capability what the claimant wants to do; must match the token's
 * @param claimantDerpKey where the decision goes; must be the DERP source of the claim packet
 * @param claimantTlsKey the claimant's TLS identity (compressed P-256), pinned by the issuer
 * @param candidates UDP addresses where the claimant may be reached directly, as sent (the gate
 *     filters them with {@link CandidatePolicy})
 * @param nonce 16 random bytes naming this claim; the decision echoes it
 * @param created when the claim was made, whole unix seconds; the gate refuses claims more than
 *     {@link ClaimGate#CLAIM_WINDOW} away from its clock
 */
public record Claim(
    int version,
    Capability capability,
    NodePublicKey claimantDerpKey,
    byte[] claimantTlsKey,
    List<String> candidates,
    byte[] nonce,
    Instant created) {

  /** The claim version this build writes. */
  public static final int VERSION = 1;

  /** Length of the claim nonce. */
  public static final int NONCE_LENGTH = 16;

  /** Checks and copies the fields; {@code created} is truncated to whole seconds. */
  public Claim {
    Objects.requireNonNull(capability, "capability");
    Objects.requireNonNull(claimantDerpKey, "claimantDerpKey");
    Objects.requireNonNull(created, "created");
    Objects.requireNonNull(nonce, "nonce");
    Objects.requireNonNull(candidates, "candidates");
    if (!CompressedP256.isValid(claimantTlsKey)) {
      throw new IllegalArgumentException(
          "claimant TLS key must be a 33-byte compressed P-256 point");
    }
    if (nonce.length != NONCE_LENGTH) {
      throw new IllegalArgumentException(
          "claim nonce must be " + NONCE_LENGTH + " bytes, got " + nonce.length);
    }
    claimantTlsKey = claimantTlsKey.clone();
    nonce = nonce.clone();
    candidates = List.copyOf(candidates);
    created = Instant.ofEpochSecond(created.getEpochSecond());
  }

  /** The same claim with other candidates. */
  Claim withCandidates(List<String> newCandidates) {
    return new Claim(
        version, capability, claimantDerpKey, claimantTlsKey, newCandidates, nonce, created);
  }

  /** Compact UTF-8 JSON, fields in the order shown above. */
  public byte[] toJson() {
    ObjectNode o = ClaimJson.newObject();
    o.put("version", version);
    o.put("capability", capability.jsonName());
    o.put("claimant_derp_key", claimantDerpKey.toString());
    o.put("claimant_tls_key", ClaimJson.base64(claimantTlsKey));
    o.set("candidates", ClaimJson.strings(candidates));
    o.put("nonce", ClaimJson.base64(nonce));
    o.put("created", created.getEpochSecond());
    return ClaimJson.write(o);
  }

  /**
   * Reads claim JSON. Every field is required; unknown fields are ignored.
   *
   * @throws ClaimException if the JSON is malformed or a field is missing or invalid
   */
  public static Claim parse(byte[] json) throws ClaimException {
    ClaimJson j = ClaimJson.read(json, "claim");
    long version = j.integer("version");
    if (version < 0 || version > Integer.MAX_VALUE) {
      throw new ClaimException("claim field version is out of range");
    }
    String capabilityName = j.text("capability");
    Capability capability =
        Capability.ofJsonName(capabilityName)
            .orElseThrow(() -> new ClaimException("claim capability is unknown"));
    NodePublicKey derpKey;
    try {
      derpKey = NodePublicKey.parse(j.text("claimant_derp_key"));
    } catch (IllegalArgumentException e) {
      throw new ClaimException("claim field claimant_derp_key is not a node key");
    }
    byte[] tlsKey = j.bytes("claimant_tls_key", CompressedP256.LENGTH);
    if (!CompressedP256.isValid(tlsKey)) {
      throw new ClaimException("claim field claimant_tls_key is not a P-256 point");
    }
    List<String> candidates = j.stringList("candidates");
    byte[] nonce = j.bytes("nonce", NONCE_LENGTH);
    long created = j.integer("created");
    if (created < 0 || created > Instant.MAX.getEpochSecond()) {
      throw new ClaimException("claim field created is out of range");
    }
    return new Claim(
        (int) version,
        capability,
        derpKey,
        tlsKey,
        candidates,
        nonce,
        Instant.ofEpochSecond(created));
  }

  /**
   * The nonce of claim JSON that does not parse as a whole, when its {@code nonce} field is
   * readable: lets the gate address a "malformed" reject to the claim that caused it.
   */
  static Optional<byte[]> nonceOf(byte[] json) {
    try {
      return Optional.of(ClaimJson.read(json, "claim").bytes("nonce", NONCE_LENGTH));
    } catch (ClaimException e) {
      return Optional.empty();
    }
  }

  /** A copy of the claimant's TLS key. */
  @Override
  public byte[] claimantTlsKey() {
    return claimantTlsKey.clone();
  }

  /** A copy of the nonce. */
  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Claim other
        && version == other.version
        && capability == other.capability
        && claimantDerpKey.equals(other.claimantDerpKey)
        && Arrays.equals(claimantTlsKey, other.claimantTlsKey)
        && candidates.equals(other.candidates)
        && Arrays.equals(nonce, other.nonce)
        && created.equals(other.created);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        version,
        capability,
        claimantDerpKey,
        Arrays.hashCode(claimantTlsKey),
        candidates,
        Arrays.hashCode(nonce),
        created);
  }

  @Override
  public String toString() {
    HexFormat hex = HexFormat.of();
    return "Claim[v" + version + " " + capability.jsonName()
        + " from " + claimantDerpKey
        + " tls=" + hex.formatHex(claimantTlsKey)
        + " candidates=" + candidates
        + " nonce=" + hex.formatHex(nonce)
        + " created=" + created + "]";
  }
}
