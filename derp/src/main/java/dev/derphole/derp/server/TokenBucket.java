package dev.derphole.derp.server;

/**
 * A per-client token bucket on bytes sent through the server. Each frame costs its length, capped
 * at one maximal frame (header + key + 64 KiB), as Tailscale's server counts it. Confined to the
 * connection's event loop.
 */
final class TokenBucket {
  /** 65568: a key plus the largest packet, the most one frame is charged. */
  static final int MAX_FRAME_COST = 32 + (64 << 10);

  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long last;

  TokenBucket(long bytesPerSecond, long burstBytes, long nowNanos) {
    this.ratePerNano = bytesPerSecond / 1e9;
    this.burst = burstBytes;
    this.tokens = burstBytes;
    this.last = nowNanos;
  }

  /**
   * Takes the cost of one frame, going into debt if needed. Returns how long the reader should
   * pause (nanoseconds) until the debt is paid; 0 when no pause is needed.
   */
  long take(int frameLength, long nowNanos) {
    tokens = Math.min(burst, tokens + (nowNanos - last) * ratePerNano);
    last = nowNanos;
    tokens -= Math.min(frameLength, MAX_FRAME_COST);
    return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / ratePerNano);
  }
}
