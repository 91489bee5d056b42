package dev.derphole.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The options of {@code derphole} and {@code derptun} that every subcommand takes too, before or
 * after its name ({@code derphole -v listen} and {@code derphole listen -v} alike).
 */
final class GlobalOptions {
  @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
      description = "Print connection events (relay, path changes, reconnects, clients) on stderr.")
  boolean verbose;

  @Option(names = "--derp-map", paramLabel = "URL|FILE", scope = ScopeType.INHERIT,
      description = "DERP map to use instead of Tailscale's public one (also DERPHOLE_DERP_MAP), e.g. the file "
          + "`derper --derp-map-out` wrote.")
  String derpMap;
}
