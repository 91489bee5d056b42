package dev.derphole.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/**
 * {@code -q/--quiet} and {@code -s/--silent}, on every command of the three tools (what they keep
 * is {@link Stderr}'s). With {@code -v} they are mutually exclusive, as upstream's are.
 */
final class OutputOptions {
  @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT,
      description = "No progress or status lines on stderr: only errors, a token for the other side and "
          + "the address listened on.")
  boolean quiet;

  @Option(names = {"-s", "--silent"}, scope = ScopeType.INHERIT,
      description = "Nothing on stderr but the error that ends the command.")
  boolean silent;

  /**
   * The level the command line asks for; a usage error for two of -v, -q, -s, and for -s where
   * the command's point is something it shows on stderr (a token for the other side, a QR code).
   */
  static Stderr.Level level(ParseResult parsed) {
    boolean verbose = false;
    boolean quiet = false;
    boolean silent = false;
    ParseResult last = parsed;
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      verbose |= p.hasMatchedOption("--verbose");
      quiet |= p.hasMatchedOption("--quiet");
      silent |= p.hasMatchedOption("--silent");
      last = p;
    }
    CommandLine cl = last.commandSpec().commandLine();
    if ((verbose ? 1 : 0) + (quiet ? 1 : 0) + (silent ? 1 : 0) > 1) {
      throw new CommandLine.ParameterException(cl, "only one of --verbose, --quiet or --silent may be given");
    }
    if (!silent) {
      return quiet ? Stderr.Level.QUIET : Stderr.Level.NORMAL;
    }
    // send --to and receive CODE use a token instead of printing one.
    boolean claims = last.hasMatchedOption("--to")
        || (last.commandSpec().name().equals("receive") && last.hasMatchedPositional(0));
    boolean issuesToken = !claims && last.commandSpec().mixins().values().stream()
        .anyMatch(m -> m.userObject() instanceof TokenDisplay);
    if (issuesToken) {
      throw new CommandLine.ParameterException(cl,
          "--silent would hide the token the other side needs; --quiet prints it and nothing else");
    }
    if (last.hasMatchedOption("--qr")) {
      throw new CommandLine.ParameterException(cl, "--qr draws on stderr, which --silent keeps empty");
    }
    return Stderr.Level.SILENT;
  }
}
