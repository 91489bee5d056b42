package dev.derphole.cli;

import picocli.CommandLine.Option;

/** How a command that issues a token shows it for the other side. */
final class TokenDisplay {
  @Option(names = "--print-token-only", description = "Print just the token on stderr, nothing else.")
  boolean tokenOnly;
}
