package dev.derphole.session;

import dev.derphole.session.rendezvous.RelayPicker;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;

/**
 * What every session needs from its surroundings.
 *
 * @param maps loads the DERP map when needed
 * @param customMap the map is not Tailscale's public one, so tokens carry the relay itself
 * @param forceRelay never send UDP: the relay carries everything
 * @param allowLoopbackCandidates accept 127.0.0.0/8 candidates (tests on one machine)
 * @param claimTimeout how long a claimant waits for the issuer's answer
 */
public record SessionOptions(EventLoopGroup group, Reporter reporter, RelayPicker.MapLoader maps, boolean customMap,
                             boolean forceRelay, boolean allowLoopbackCandidates, Duration claimTimeout) {
  public static final Duration DEFAULT_CLAIM_TIMEOUT = Duration.ofSeconds(30);
  /** Time to reach the relay. */
  public static final Duration RELAY_TIMEOUT = Duration.ofSeconds(15);
}
