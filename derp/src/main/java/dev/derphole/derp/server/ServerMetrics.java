package dev.derphole.derp.server;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** Counters of a DERP server, rendered as Prometheus text at {@code /metrics}. */
public final class ServerMetrics {
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger clients = new AtomicInteger();
  final LongAdder accepts = new LongAdder();
  final LongAdder refusedOverLimit = new LongAdder();
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

  public long rateLimitPauses() {
    return rateLimitPauses.sum();
  }

  public long senderPauses() {
    return senderPauses.sum();
  }

  public long senderPauseLimits() {
    return senderPauseLimits.sum();
  }

  /** Prometheus text exposition format, version 0.0.4. */
  public String prometheus() {
    StringBuilder sb = new StringBuilder(2048);
    gauge(sb, "derp_connections", "TCP connections open, verified or not", connections.get());
    gauge(sb, "derp_clients", "verified DERP clients connected", clients.get());
    counter(sb, "derp_accepts_total", "TCP connections accepted", accepts.sum());
    counter(sb, "derp_refused_over_limit_total", "connections closed at accept because the limit was reached", refusedOverLimit.sum());
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
    counter(sb, "derp_pings_answered_total", "client pings answered with a pong", pingsAnswered.sum());
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
