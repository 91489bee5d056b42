package dev.derphole.cli;

import picocli.CommandLine.Option;

/** {@code --force-relay}, for every command that opens a session or a tunnel. */
final class ForceRelay {
  @Option(names = "--force-relay", description = "Never send UDP to the other side; the relay carries everything.")
  boolean forced;
}
