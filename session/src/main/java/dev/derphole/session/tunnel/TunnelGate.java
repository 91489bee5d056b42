package dev.derphole.session.tunnel;

import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.claim.Claim;
import dev.derphole.session.claim.ClaimException;
import dev.derphole.session.claim.ClaimGate;
import dev.derphole.session.claim.Decision;
import dev.derphole.session.claim.Envelope;
import dev.derphole.session.claim.EnvelopeKind;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.token.HumanDuration;
import dev.derphole.session.token.Token;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * derptun serve's gate: many clients, each with its own key derived from the server token, none
 * of them remembered beyond a cache. Thread-safe.
 *
 * <ol>
 *   <li>Not a tunnel claim ({@link TunnelClaimPacket}): ignore.
 *   <li>Derive the client's session from its id and expiry; the claim envelope must open with
 *       its claim key (only a holder of that client's bearer can seal it): else ignore.
 *   <li>The claim's DERP key must be the packet's source: else ignore.
 *   <li>The proof must verify (the expiry was not edited): reject {@code bad_proof}.
 *   <li>The server token must not have expired: reject {@code server_expired}.
 *   <li>The client token must not outlive the server token: reject {@code bad_expiry}.
 *   <li>The client token must not have expired: reject {@code expired}.
 *   <li>Then the ordinary {@link ClaimGate} for that client's session (capability, version,
 *       stale claims, retries), not one-shot: every authenticated claim is accepted.
 * </ol>
 *
 * Every reply is sealed with the client's decision key. Nothing is revealed to a packet that does
 * not authenticate, as in the one-shot gate.
 */
final class TunnelGate {
  static final int MAX_CACHED_CLIENTS = 256;

  private final ServerToken server;
  private final boolean allowLoopback;
  private final Map<String, ClaimGate> gates = new LinkedHashMap<>(16, 0.75f, true) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, ClaimGate> eldest) {
      return size() > MAX_CACHED_CLIENTS;
    }
  };

  /** What one packet led to: a sealed decision for its source, and the claim if this packet was accepted. */
  record Outcome(Token clientSession, String identity, byte[] sealedDecision, Optional<Claim> accepted, boolean accept) {}

  TunnelGate(ServerToken server, boolean allowLoopback) {
    this.server = server;
    this.allowLoopback = allowLoopback;
  }

  synchronized Optional<Outcome> onPacket(NodePublicKey source, byte[] packet, Instant now) {
    Optional<TunnelClaimPacket> read = TunnelClaimPacket.read(packet);
    if (read.isEmpty()) {
      return Optional.empty();
    }
    TunnelClaimPacket p = read.get();
    Token session = server.clientSession(p.clientId(), p.expires());
    SessionKeys keys = SessionKeys.of(session);
    Optional<Envelope.Opened> opened = Envelope.open(keys.claimKey(), session.sessionId(), p.envelope());
    if (opened.isEmpty() || opened.get().kind() != EnvelopeKind.CLAIM) {
      return Optional.empty();
    }
    Claim claim;
    try {
      claim = Claim.parse(opened.get().plaintext());
    } catch (ClaimException e) {
      return gate(session).onPacket(source, p.envelope(), now).map(o -> outcome(session, "", o));
    }
    if (!claim.claimantDerpKey().equals(source)) {
      return Optional.empty();
    }
    String identity = identity(claim);
    if (!server.verifies(p.clientId(), p.expires(), p.proof())) {
      return reject(session, identity, claim, "bad_proof",
          "the server refused this client token: it was altered (its proof does not verify)");
    }
    if (!now.isBefore(server.expires())) {
      return reject(session, identity, claim, "server_expired", "the server's token expired "
          + HumanDuration.of(Duration.between(server.expires(), now)) + " ago; the server needs a new token");
    }
    if (p.expires().isAfter(server.expires())) {
      return reject(session, identity, claim, "bad_expiry",
          "the server refused this client token: it expires after the server token does");
    }
    if (!now.isBefore(p.expires())) {
      return reject(session, identity, claim, "expired", "the client token expired "
          + HumanDuration.of(Duration.between(p.expires(), now)) + " ago");
    }
    return gate(session).onPacket(source, p.envelope(), now).map(o -> outcome(session, identity, o));
  }

  private Outcome outcome(Token session, String identity, ClaimGate.Outcome o) {
    Optional<Envelope.Opened> d = Envelope.open(SessionKeys.of(session).decisionKey(), session.sessionId(), o.sealedDecision());
    boolean accept = d.isPresent() && isAccept(d.get().plaintext());
    return new Outcome(session, identity, o.sealedDecision(), o.accepted(), accept);
  }

  private static boolean isAccept(byte[] json) {
    try {
      return Decision.parse(json).accepted();
    } catch (ClaimException e) {
      return false;
    }
  }

  private ClaimGate gate(Token session) {
    return gates.computeIfAbsent(HexFormat.of().formatHex(session.sessionId()) + "/" + session.expires().getEpochSecond(),
        k -> new ClaimGate(session, false, List::of, allowLoopback));
  }

  private Optional<Outcome> reject(Token session, String identity, Claim claim, String code, String reason) {
    byte[] json = Decision.reject(claim.nonce(), code, reason).toJson();
    byte[] sealed = Envelope.seal(EnvelopeKind.DECISION, SessionKeys.of(session).decisionKey(), session.sessionId(), json);
    return Optional.of(new Outcome(session, identity, sealed, Optional.empty(), false));
  }

  /** A claim and its retries: nonce and DERP key. */
  static String identity(Claim claim) {
    return HexFormat.of().formatHex(claim.nonce()) + "/" + claim.claimantDerpKey();
  }
}
