package dev.derphole.cli;

import dev.derphole.session.stream.StripedSender;
import picocli.CommandLine.Option;

/**
 * {@code -P/--parallel N|auto} on listen, pipe, send and receive: how many direct lanes (each its
 * own UDP flow with its own QUIC connection, on its own event loop) the transfer may use (issue #34).
 */
final class ParallelOption {
  static final int MAX = 16;

  @Option(names = {"-P", "--parallel"}, paramLabel = "N|auto", defaultValue = "auto", description =
      "Direct lanes to stripe the data over, 1-16, or auto (the default): each lane is a UDP flow of its "
      + "own (own port, NAT mapping, congestion control, event loop), opened once the first direct path "
      + "is up; never on the relay. auto starts with one lane and doubles them while the settled "
      + "rate grows by more than 10%%, up to min(cores, 16); a doubling that does not pay is undone. Both sides' limits apply: the "
      + "smaller wins, and a peer without lanes means one.")
  String value = "auto";

  boolean auto() {
    return value.equals("auto");
  }

  /** The most lanes this side allows; a usage error (exit 2) for anything but 1-16 or auto. */
  int lanes() {
    if (auto()) {
      return Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), MAX));
    }
    try {
      int n = Integer.parseInt(value);
      if (n >= 1 && n <= MAX && value.equals(String.valueOf(n))) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new Launcher.UsageException("--parallel takes 1-16 or auto, got '" + value + "'");
  }

  StripedSender.Mode mode() {
    return auto() ? StripedSender.Mode.AUTO : StripedSender.Mode.FIXED;
  }

  /** "N (auto|fixed)", as the {@code lanes} event says it. */
  String describe(int lanes) {
    return lanes + " (" + (auto() ? "auto" : "fixed") + ")";
  }
}
