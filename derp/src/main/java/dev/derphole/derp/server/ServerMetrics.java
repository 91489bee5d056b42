package dev.derphole.derp.server;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters of a DERP server, rendered as Prometheus text at {@code /metrics}. */
public final class ServerMetrics {
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger clients = new AtomicInteger();
  final LongAdder accepts = new LongAdder();
  final LongAdder refusedOverLimit = new LongAdder();
  final LongAdder refusedPerIp = new LongAdder();
  final LongAdder handshakeFailures = new LongAdder();
  final LongAdder handshakeTimeouts = new LongAdder();
  final LongAdder protocolErrors = new LongAdder();
  final LongAdder replacedConnections = new LongAdder();
  final LongAdder packetsForwarded = new LongAdder();
  final LongAdder bytesForwarded = new LongAdder();
  final LongAdder droppedQueueFull = new LongAdder();
  final LongAdder droppedUnknownDestination = new LongAdder();
  final LongAdder droppedGone = new LongAdder();
  final LongAdder pingsAnswered = new LongAdder();
  final LongAdder keepAlivesSent = new LongAdder();
  final LongAdder rateLimitPauses = new LongAdder();
  final LongAdder senderPauses = new LongAdder();
  final LongAdder senderPauseLimits = new LongAdder();
  final LongAdder httpRequests = new LongAdder();
  final LongAdder idlePings = new LongAdder();
  final LongAdder idleTimeouts = new LongAdder();
  final LongAdder writeTimeouts = new LongAdder();
  final LongAdder droppedPongs = new LongAdder();
  final LongAdder droppedKeepAlives = new LongAdder();
  final LongAdder droppedNotHere = new LongAdder();
  final LongAdder droppedIdlePings = new LongAdder();
  final AtomicInteger meshPeersUp = new AtomicInteger();
  final LongAdder meshForwardedToPeers = new LongAdder();
  final LongAdder meshForwardedFromPeers = new LongAdder();
  final LongAdder meshRefused = new LongAdder();
  final LongAdder droppedMeshPeerDown = new LongAdder();
  final LongAdder droppedMeshPeerFull = new LongAdder();
  final LongAdder droppedMeshUnknownDestination = new LongAdder();
  /** The most bytes seen waiting in one connection's socket write buffer. */
  private final AtomicLong outboundPendingPeak = new AtomicLong();

  /** Notes how many bytes wait in one connection's socket write buffer right now. */
  void notePending(long bytes) {
    long peak = outboundPendingPeak.get();
    while (bytes > peak && !outboundPendingPeak.compareAndSet(peak, bytes)) {
      peak = outboundPendingPeak.get();
    }
  }

  public int connections() {
    return connections.get();
  }

  public int clients() {
    return clients.get();
  }

  public long packetsForwarded() {
    return packetsForwarded.sum();
  }

  public long bytesForwarded() {
    return bytesForwarded.sum();
  }

  public long droppedQueueFull() {
    return droppedQueueFull.sum();
  }

  public long droppedUnknownDestination() {
    return droppedUnknownDestination.sum();
  }

  public long handshakeFailures() {
    return handshakeFailures.sum();
  }

  public long handshakeTimeouts() {
    return handshakeTimeouts.sum();
  }

  public long protocolErrors() {
    return protocolErrors.sum();
  }

  public long replacedConnections() {
    return replacedConnections.sum();
  }

  public long pingsAnswered() {
    return pingsAnswered.sum();
  }

  public long refusedOverLimit() {
    return refusedOverLimit.sum();
  }

  public long refusedPerIp() {
    return refusedPerIp.sum();
  }

  public long idlePings() {
    return idlePings.sum();
  }

  public long idleTimeouts() {
    return idleTimeouts.sum();
  }

  public long writeTimeouts() {
    return writeTimeouts.sum();
  }

  public long droppedPongs() {
    return droppedPongs.sum();
  }

  /** The most bytes ever seen waiting in one connection's socket write buffer. */
  public long outboundPendingPeak() {
    return outboundPendingPeak.get();
  }

  public long rateLimitPauses() {
    return rateLimitPauses.sum();
  }

  public long senderPauses() {
    return senderPauses.sum();
  }

  public long senderPauseLimits() {
    return senderPauseLimits.sum();
  }

  public int meshPeersUp() {
    return meshPeersUp.get();
  }

  public long meshForwardedToPeers() {
    return meshForwardedToPeers.sum();
  }

  public long meshForwardedFromPeers() {
    return meshForwardedFromPeers.sum();
  }

  public long meshRefused() {
    return meshRefused.sum();
  }

  public long droppedMeshPeerFull() {
    return droppedMeshPeerFull.sum();
  }

  public long droppedMeshUnknownDestination() {
    return droppedMeshUnknownDestination.sum();
  }

  /** Prometheus text exposition format, version 0.0.4. */
  public String prometheus() {
    StringBuilder sb = new StringBuilder(2048);
    gauge(sb, "derp_connections", "TCP connections open, verified or not", connections.get());
    gauge(sb, "derp_clients", "verified DERP clients connected", clients.get());
    counter(sb, "derp_accepts_total", "TCP connections accepted", accepts.sum());
    counter(sb, "derp_refused_over_limit_total", "connections closed at accept because the limit was reached", refusedOverLimit.sum());
    counter(sb, "derp_refused_per_ip_total", "connections closed at accept because their address (IPv6: /64) had too many open", refusedPerIp.sum());
    counter(sb, "derp_handshake_failures_total", "connections closed during the upgrade or ClientInfo", handshakeFailures.sum());
    counter(sb, "derp_handshake_timeouts_total", "connections closed for not finishing the handshake in time", handshakeTimeouts.sum());
    counter(sb, "derp_protocol_errors_total", "verified connections closed for breaking the protocol", protocolErrors.sum());
    counter(sb, "derp_replaced_connections_total", "connections replaced by a newer one with the same key", replacedConnections.sum());
    counter(sb, "derp_packets_forwarded_total", "packets handed to a destination's queue", packetsForwarded.sum());
    counter(sb, "derp_bytes_forwarded_total", "packet bytes handed to a destination's queue", bytesForwarded.sum());
    sb.append("# HELP derp_packets_dropped_total packets dropped, by reason\n# TYPE derp_packets_dropped_total counter\n");
    sb.append("derp_packets_dropped_total{reason=\"queue_full\"} ").append(droppedQueueFull.sum()).append('\n');
    sb.append("derp_packets_dropped_total{reason=\"unknown_dest\"} ").append(droppedUnknownDestination.sum()).append('\n');
    sb.append("derp_packets_dropped_total{reason=\"gone\"} ").append(droppedGone.sum()).append('\n');
    sb.append("derp_packets_dropped_total{reason=\"mesh_peer_down\"} ").append(droppedMeshPeerDown.sum()).append('\n');
    sb.append("derp_packets_dropped_total{reason=\"mesh_peer_full\"} ").append(droppedMeshPeerFull.sum()).append('\n');
    sb.append("derp_packets_dropped_total{reason=\"mesh_unknown_dest\"} ").append(droppedMeshUnknownDestination.sum()).append('\n');
    gauge(sb, "derp_mesh_peers_up", "mesh peers this relay is connected to and watching", meshPeersUp.get());
    sb.append("# HELP derp_mesh_packets_forwarded_total packets handed over between meshed relays, by direction\n"
        + "# TYPE derp_mesh_packets_forwarded_total counter\n");
    sb.append("derp_mesh_packets_forwarded_total{direction=\"to_peer\"} ").append(meshForwardedToPeers.sum()).append('\n');
    sb.append("derp_mesh_packets_forwarded_total{direction=\"from_peer\"} ").append(meshForwardedFromPeers.sum()).append('\n');
    counter(sb, "derp_mesh_refused_total", "connections refused for a wrong mesh key", meshRefused.sum());
    counter(sb, "derp_pings_answered_total", "client pings answered with a pong", pingsAnswered.sum());
    sb.append("# HELP derp_control_frames_dropped_total frames the server sends on its own, dropped because the client's socket was full\n"
        + "# TYPE derp_control_frames_dropped_total counter\n");
    sb.append("derp_control_frames_dropped_total{frame=\"pong\"} ").append(droppedPongs.sum()).append('\n');
    sb.append("derp_control_frames_dropped_total{frame=\"keepalive\"} ").append(droppedKeepAlives.sum()).append('\n');
    sb.append("derp_control_frames_dropped_total{frame=\"not_here\"} ").append(droppedNotHere.sum()).append('\n');
    sb.append("derp_control_frames_dropped_total{frame=\"idle_ping\"} ").append(droppedIdlePings.sum()).append('\n');
    gauge(sb, "derp_outbound_pending_bytes_peak", "the most bytes seen waiting in one connection's socket write buffer", outboundPendingPeak.get());
    counter(sb, "derp_write_timeouts_total", "clients closed because their socket stayed full past the write timeout", writeTimeouts.sum());
    counter(sb, "derp_idle_pings_total", "pings sent to clients silent for half the idle timeout", idlePings.sum());
    counter(sb, "derp_idle_timeouts_total", "clients closed for saying nothing, not even a pong, for the idle timeout", idleTimeouts.sum());
    counter(sb, "derp_keepalives_sent_total", "keep-alive frames sent", keepAlivesSent.sum());
    counter(sb, "derp_rate_limit_pauses_total", "times a client's reads were paused by its token bucket", rateLimitPauses.sum());
    counter(sb, "derp_sender_pauses_total", "times a sender stopped being read while its destination's queue drained", senderPauses.sum());
    counter(sb, "derp_sender_pause_limits_total", "sender pauses ended by the limit: the destination was marked stalled", senderPauseLimits.sum());
    counter(sb, "derp_http_requests_total", "plain HTTP requests answered", httpRequests.sum());
    return sb.toString();
  }

  private static void gauge(StringBuilder sb, String name, String help, long value) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(value).append('\n');
  }

  private static void counter(StringBuilder sb, String name, String help, long value) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(value).append('\n');
  }
}
