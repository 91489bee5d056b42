package dev.derphole.cli;

import picocli.CommandLine.Option;

/** Upstream's {@code -P/--parallel} (lanes on the direct path), taken and ignored so its scripts run. */
final class ParallelAccepted {
  @Option(names = {"-P", "--parallel"}, hidden = true, description = "Accepted for compatibility; ignored.")
  String parallel;
}
