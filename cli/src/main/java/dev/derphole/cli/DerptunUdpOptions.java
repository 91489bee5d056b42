package dev.derphole.cli;

import dev.derphole.session.tunnel.udp.UdpLimits;
import java.time.Duration;
import picocli.CommandLine.Option;

/** {@code derptun serve} and {@code open}: how long an idle UDP flow lives and how many there may be. */
final class DerptunUdpOptions {
  @Option(names = "--udp-idle-timeout", paramLabel = "SECONDS", description = "A UDP flow with no datagram either way "
      + "for this long ends (default: ${DEFAULT-VALUE}).")
  int idleSeconds = (int) UdpLimits.DEFAULT_IDLE.toSeconds();

  @Option(names = "--max-udp-flows", paramLabel = "N", description = "UDP flows at once (default: ${DEFAULT-VALUE}); "
      + "datagrams that would start another are dropped until one ends.")
  int maxFlows = UdpLimits.DEFAULT_MAX_FLOWS;

  UdpLimits limits() {
    try {
      return new UdpLimits(Duration.ofSeconds(idleSeconds), maxFlows);
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException("--udp-idle-timeout and --max-udp-flows must be at least 1");
    }
  }
}
