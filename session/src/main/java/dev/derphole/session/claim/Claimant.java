package dev.derphole.session.claim;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.transport.candidate.CandidatePolicy;
import dev.derphole.session.token.Token;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The claimant's side of the claim: makes one claim for a token and recognises the issuer's
 * answer to it. Immutable, so thread-safe.
 *
 * <p>Send {@link #sealedClaim()} to {@code token.issuerDerpKey()} and resend it until {@link
 * #onPacket} returns a decision; each call seals the same claim under a fresh envelope nonce.
 */
public final class Claimant {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Token token;
  private final Claim claim;
  private final boolean allowLoopback;
  private final byte[] sessionId;
  private final byte[] claimKey;
  private final byte[] decisionKey;

  /** A claimant that refuses loopback candidates. */
  public Claimant(
      Token token,
      NodePublicKey myDerpKey,
      byte[] myTlsKey,
      List<String> candidates,
      Instant now) {
    this(token, myDerpKey, myTlsKey, candidates, now, false);
  }

  /**
   * @param token the token being claimed; its capability is the one claimed
   * @param myDerpKey our DERP key: the claim must travel from it
   * @param myTlsKey our TLS identity, compressed P-256
   * @param candidates our UDP candidates; filtered with {@link CandidatePolicy}
   * @param now the claim's {@code created}
   * @param allowLoopback keep loopback candidates, ours and the issuer's (tests on one machine)
   */
  public Claimant(
      Token token,
      NodePublicKey myDerpKey,
      byte[] myTlsKey,
      List<String> candidates,
      Instant now,
      boolean allowLoopback) {
    this.token = Objects.requireNonNull(token, "token");
    this.allowLoopback = allowLoopback;
    byte[] nonce = new byte[Claim.NONCE_LENGTH];
    RANDOM.nextBytes(nonce);
    this.claim =
        new Claim(
            Claim.VERSION,
            token.capability(),
            myDerpKey,
            myTlsKey,
            CandidatePolicy.filter(candidates, allowLoopback),
            nonce,
            now);
    SessionKeys keys = SessionKeys.of(token);
    this.sessionId = token.sessionId();
    this.claimKey = keys.claimKey();
    this.decisionKey = keys.decisionKey();
  }

  private volatile int maxLanes = 1;
  private volatile int agreedLanes = 1;

  /** The claim this claimant makes. */
  public Claim claim() {
    return claim;
  }

  /**
   * Asks for up to {@code lanes} direct lanes ({@link LaneOffer}); before {@link #sealedClaim}.
   * With 1 (the default) the claim is as it was before lanes.
   */
  public void offerLanes(int lanes) {
    this.maxLanes = Math.max(1, Math.min(lanes, LaneOffer.MAX_LANES));
  }

  /** The lanes agreed: the smaller of ours and the issuer's; 1 until an accept arrived. */
  public int agreedLanes() {
    return agreedLanes;
  }

  /** The claim in an envelope, ready to send to the issuer's DERP key. */
  public byte[] sealedClaim() {
    return Envelope.seal(EnvelopeKind.CLAIM, claimKey, sessionId, LaneOffer.withLanes(claim.toJson(), maxLanes));
  }

  /**
   * The issuer's decision on our claim, if this DERP packet is one: it must come from the token's
   * issuer DERP key, open with the decision key, and echo our claim nonce. Anything else is empty
   * and should be ignored. An accept's candidates are filtered with {@link CandidatePolicy}.
   */
  public Optional<Decision> onPacket(NodePublicKey derpSource, byte[] packet) {
    if (!token.issuerDerpKey().equals(derpSource)) {
      return Optional.empty();
    }
    Optional<Envelope.Opened> opened = Envelope.open(decisionKey, sessionId, packet);
    if (opened.isEmpty() || opened.get().kind() != EnvelopeKind.DECISION) {
      return Optional.empty();
    }
    Decision decision;
    try {
      decision = Decision.parse(opened.get().plaintext());
    } catch (ClaimException e) {
      return Optional.empty();
    }
    if (!MessageDigest.isEqual(decision.claimNonce(), claim.nonce())) {
      return Optional.empty();
    }
    if (!decision.accepted()) {
      return Optional.of(decision);
    }
    agreedLanes = Math.min(maxLanes, LaneOffer.lanesOf(opened.get().plaintext()));
    return Optional.of(
        Decision.accept(
            decision.claimNonce(), CandidatePolicy.filter(decision.candidates(), allowLoopback)));
  }
}
