package dev.derphole.cli;

import picocli.CommandLine.Option;

/** {@code --hide-progress}, for the commands that move a file or directory. */
final class HideProgress {
  @Option(names = "--hide-progress", description = "No progress bar (the final summary line stays).")
  boolean hidden;
}
