package dev.derphole.session.claim;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.transport.candidate.CandidatePolicy;
import dev.derphole.session.token.HumanDuration;
import dev.derphole.session.token.Token;
import dev.derphole.session.token.TokenException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The issuer's side of the claim: one gate per issued token, fed every envelope that arrives on
 * DERP. Thread-safe.
 *
 * <p>Order, authentication first, then anything that depends on state:
 *
 * <ol>
 *   <li>Open with the claim key; failure: ignore (no reply, so no oracle for a bad MAC).
 *   <li>Parse; malformed: reject {@code malformed}.
 *   <li>Claimant DERP key ≠ the packet's DERP source: ignore (the relay forged or replayed it).
 *   <li>Token expired: reject {@code expired}.
 *   <li>Capability ≠ the token's: reject {@code wrong_capability}.
 *   <li>Claim version ≠ 1: reject {@code unsupported_version}.
 *   <li>{@code created} more than {@link #CLAIM_WINDOW} from our clock: reject {@code stale}.
 *   <li>The claim already accepted (same nonce and keys, a retry after a lost decision): the same
 *       accept again, not reported as a new acceptance.
 *   <li>One-shot and already claimed by another: reject {@code claimed}.
 *   <li>Otherwise accept, remember the claim, and answer with our candidates.
 * </ol>
 *
 * Every reply is sealed with the decision key and goes back to the packet's DERP source.
 */
public final class ClaimGate {
  /** How far a claim's {@code created} may be from the issuer's clock: the replay window. */
  public static final Duration CLAIM_WINDOW = Duration.ofMinutes(2);

  /** Accepted claims remembered for retries by a gate that is not one-shot. */
  static final int MAX_REMEMBERED = 256;

  private final Token token;
  private final boolean oneShot;
  private final Supplier<List<String>> localCandidates;
  private final boolean allowLoopback;
  private final byte[] sessionId;
  private final byte[] claimKey;
  private final byte[] decisionKey;

  /** Accepted claims by identity, oldest first, with the decision each one got. */
  private final Map<String, Accepted> accepted =
      new LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Accepted> eldest) {
          return size() > MAX_REMEMBERED;
        }
      };

  private Claim first;
  private int maxLanes = 1;
  private int firstLanes = 1;

  /** What one packet led to. */
  public record Outcome(byte[] sealedDecision, Optional<Claim> accepted) {}

  private record Accepted(Claim claim, byte[] decisionJson) {}

  /** A gate that answers accepts with no candidates of its own and refuses loopback candidates. */
  public ClaimGate(Token token, boolean oneShot) {
    this(token, oneShot, List::of, false);
  }

  /**
   * @param token the token this gate guards
   * @param oneShot whether only the first claimant may have the session
   * @param localCandidates our own UDP candidates, asked at each new accept
   * @param allowLoopback keep loopback candidates (both peers on one machine, as in tests)
   */
  public ClaimGate(
      Token token,
      boolean oneShot,
      Supplier<List<String>> localCandidates,
      boolean allowLoopback) {
    this.token = Objects.requireNonNull(token, "token");
    this.oneShot = oneShot;
    this.localCandidates = Objects.requireNonNull(localCandidates, "localCandidates");
    this.allowLoopback = allowLoopback;
    SessionKeys keys = SessionKeys.of(token);
    this.sessionId = token.sessionId();
    this.claimKey = keys.claimKey();
    this.decisionKey = keys.decisionKey();
  }

  /**
   * Handles one DERP packet that {@link Envelope#isEnvelope(byte[]) is an envelope}.
   *
   * @return empty to ignore it silently; otherwise the sealed decision to send to {@code
   *     derpSource}, and the claim if this call accepted it
   */
  public synchronized Optional<Outcome> onPacket(
      NodePublicKey derpSource, byte[] packet, Instant now) {
    Optional<Envelope.Opened> opened = Envelope.open(claimKey, sessionId, packet);
    if (opened.isEmpty() || opened.get().kind() != EnvelopeKind.CLAIM) {
      return Optional.empty();
    }
    byte[] json = opened.get().plaintext();
    Claim claim;
    try {
      claim = Claim.parse(json);
    } catch (ClaimException e) {
      byte[] nonce = Claim.nonceOf(json).orElse(new byte[0]);
      return reject(nonce, "malformed", "malformed claim: " + e.getMessage());
    }
    if (!claim.claimantDerpKey().equals(derpSource)) {
      return Optional.empty();
    }
    byte[] nonce = claim.nonce();
    try {
      token.requireUnexpired(now);
      token.requireCapability(claim.capability());
    } catch (TokenException e) {
      String code = e.reason() == TokenException.Reason.EXPIRED ? "expired" : "wrong_capability";
      return reject(nonce, code, e.getMessage());
    }
    if (claim.version() != Claim.VERSION) {
      return reject(
          nonce,
          "unsupported_version",
          "the claim is version " + claim.version() + "; this derphole understands version "
              + Claim.VERSION);
    }
    Duration skew = Duration.between(claim.created(), now);
    if (skew.abs().compareTo(CLAIM_WINDOW) > 0) {
      String when = HumanDuration.of(skew) + (skew.isNegative() ? " in the future" : " ago");
      return reject(nonce, "stale", "stale claim: made " + when + "; check both clocks");
    }
    claim = claim.withCandidates(CandidatePolicy.filter(claim.candidates(), allowLoopback));

    Accepted before = accepted.get(identity(claim));
    if (before != null) {
      return Optional.of(new Outcome(seal(before.decisionJson()), Optional.empty()));
    }
    if (oneShot && first != null) {
      return reject(nonce, "claimed", "session already claimed");
    }
    Decision decision =
        Decision.accept(nonce, CandidatePolicy.filter(localCandidates.get(), allowLoopback));
    int lanes = Math.min(maxLanes, LaneOffer.lanesOf(json));
    byte[] decisionJson = LaneOffer.withLanes(decision.toJson(), lanes);
    if (first == null) {
      firstLanes = lanes;
    }
    accepted.put(identity(claim), new Accepted(claim, decisionJson));
    if (first == null) {
      first = claim;
    }
    return Optional.of(new Outcome(seal(decisionJson), Optional.of(claim)));
  }

  /**
   * Allows up to {@code lanes} direct lanes ({@link LaneOffer}): an accept agrees on the smaller of
   * this and the claim's. With 1 (the default) decisions are as they were before lanes.
   */
  public synchronized void offerLanes(int lanes) {
    this.maxLanes = Math.max(1, Math.min(lanes, LaneOffer.MAX_LANES));
  }

  /** The lanes agreed with the first claim accepted; 1 before one. */
  public synchronized int agreedLanes() {
    return firstLanes;
  }

  /** The first claim this gate accepted, if any. */
  public synchronized Optional<Claim> acceptedClaim() {
    return Optional.ofNullable(first);
  }

  private Optional<Outcome> reject(byte[] nonce, String code, String reason) {
    byte[] json = Decision.reject(nonce, code, reason).toJson();
    return Optional.of(new Outcome(seal(json), Optional.empty()));
  }

  private byte[] seal(byte[] decisionJson) {
    return Envelope.seal(EnvelopeKind.DECISION, decisionKey, sessionId, decisionJson);
  }

  /** Nonce and keys: a retry of a claim has the same identity even if its candidates changed. */
  private static String identity(Claim claim) {
    HexFormat hex = HexFormat.of();
    return hex.formatHex(claim.nonce()) + "/" + claim.claimantDerpKey() + "/"
        + hex.formatHex(claim.claimantTlsKey());
  }
}
