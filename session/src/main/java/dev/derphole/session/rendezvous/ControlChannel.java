package dev.derphole.session.rendezvous;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.session.claim.Envelope;
import dev.derphole.session.claim.EnvelopeKind;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.text.PeerText;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sealed control messages between the two peers after the claim, over DERP:
 * {@code {"type":"candidates","seq":N,"candidates":["ip:port",…]}}, the sender's full, current
 * candidate list (so a lost message costs nothing once a newer one arrives), and
 * {@code {"type":"abort","seq":N,"reason":"interrupted"}}, the sender is ending the session (sent
 * beside QUIC's own close, which can be lost on the relay), and
 * {@code {"type":"lane-candidates","seq":N,"lane":I,"candidates":[…]}}, the same for direct lane I
 * (1..15; sent only in a session that agreed on lanes, so a peer that predates them never gets
 * one, and would ignore its unknown type if it did). Each direction has
 * its own key; a message must come from the peer's DERP key and carry a higher sequence number
 * than the last one accepted, so the relay can neither forge nor replay them.
 */
public final class ControlChannel {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** More than any honest list (the candidate policy keeps fewer still). */
  static final int MAX_CANDIDATES = 64;

  private final byte[] sendKey;
  private final byte[] receiveKey;
  private final byte[] sessionId;
  private final NodePublicKey peer;
  private final AtomicLong sendSeq = new AtomicLong();
  private long lastReceived;

  public ControlChannel(SessionKeys keys, byte[] sessionId, boolean iAmIssuer, NodePublicKey peer) {
    this.sendKey = keys.controlKey(iAmIssuer);
    this.receiveKey = keys.controlKey(!iAmIssuer);
    this.sessionId = sessionId.clone();
    this.peer = peer;
  }

  public NodePublicKey peer() {
    return peer;
  }

  /** A sealed candidates message, ready to send to the peer. */
  public byte[] candidates(List<String> candidates) {
    ObjectNode o = JSON.createObjectNode();
    o.put("type", "candidates");
    o.put("seq", sendSeq.incrementAndGet());
    candidates.forEach(o.putArray("candidates")::add);
    return Envelope.seal(EnvelopeKind.CONTROL, sendKey, sessionId, o.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** A sealed candidates message for direct lane {@code lane}. */
  public byte[] laneCandidates(int lane, List<String> candidates) {
    ObjectNode o = JSON.createObjectNode();
    o.put("type", "lane-candidates");
    o.put("seq", sendSeq.incrementAndGet());
    o.put("lane", lane);
    candidates.forEach(o.putArray("candidates")::add);
    return Envelope.seal(EnvelopeKind.CONTROL, sendKey, sessionId, o.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** A sealed abort message: the session ends, for {@code reason}. */
  public byte[] abort(String reason) {
    ObjectNode o = JSON.createObjectNode();
    o.put("type", "abort");
    o.put("seq", sendSeq.incrementAndGet());
    o.put("reason", reason);
    return Envelope.seal(EnvelopeKind.CONTROL, sendKey, sessionId, o.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** What a control message said. */
  public sealed interface Message permits Candidates, LaneCandidates, Abort {}

  public record Candidates(List<String> candidates) implements Message {}

  /** {@code lane}: 1..15. */
  public record LaneCandidates(int lane, List<String> candidates) implements Message {}

  /** {@code reason}: the peer's words, escaped ({@link PeerText}). */
  public record Abort(String reason) implements Message {}

  /** The message, if {@code packet} is a fresh, authentic control message from the peer. */
  public synchronized Optional<Message> onPacket(NodePublicKey source, byte[] packet) {
    if (!peer.equals(source)) {
      return Optional.empty();
    }
    Optional<Envelope.Opened> opened = Envelope.open(receiveKey, sessionId, packet);
    if (opened.isEmpty() || opened.get().kind() != EnvelopeKind.CONTROL) {
      return Optional.empty();
    }
    try {
      JsonNode o = JSON.readTree(opened.get().plaintext());
      long seq = o.path("seq").asLong(0);
      String type = o.path("type").asText();
      if (seq <= lastReceived) {
        return Optional.empty();
      }
      if (type.equals("abort")) {
        lastReceived = seq;
        String reason = o.path("reason").asText("");
        return Optional.of(new Abort(PeerText.printable(reason.length() > 200 ? reason.substring(0, 200) : reason)));
      }
      int lane = o.path("lane").isIntegralNumber() ? o.path("lane").asInt(0) : 0;
      boolean forLane = type.equals("lane-candidates") && lane >= 1 && lane <= 15;
      if (!type.equals("candidates") && !forLane) {
        return Optional.empty();
      }
      lastReceived = seq;
      List<String> out = new ArrayList<>();
      for (JsonNode c : o.path("candidates")) {
        if (c.isTextual() && out.size() < MAX_CANDIDATES) {
          out.add(c.asText());
        }
      }
      return Optional.of(forLane ? new LaneCandidates(lane, out) : new Candidates(out));
    } catch (java.io.IOException e) {
      return Optional.empty();
    }
  }
}
