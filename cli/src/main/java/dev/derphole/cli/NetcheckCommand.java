package dev.derphole.cli;

import dev.derphole.derp.map.DerpMapException;
import dev.derphole.derp.map.DerpMapSource;
import dev.derphole.session.Reporter;
import dev.derphole.session.SessionException;
import dev.derphole.session.text.PeerText;
import dev.derphole.transport.netcheck.Netcheck;
import dev.derphole.transport.netcheck.NetcheckReport;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code derphole netcheck} and {@code derptun netcheck}: will this network go direct? The report
 * is the command's output, so it goes to stdout (one JSON object with {@code --json}); steps
 * under {@code --verbose} and errors go to stderr.
 */
@Command(name = "netcheck", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100,
    description = {
        "Report whether direct connections can work from this network.",
        "It checks UDP, the public address, the NAT's mapping, the router's port mapping and the",
        "latency to each relay region; the report goes to stdout (--json: one JSON object).",
        ""})
final class NetcheckCommand implements Callable<Integer> {
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration MIN_TIMEOUT = Duration.ofMillis(500);
  static final Duration MAX_TIMEOUT = Duration.ofMinutes(2);
  private static final Pattern DURATION = Pattern.compile("(\\d{1,6}(?:\\.\\d{1,3})?)(ms|s|m)?");

  @ParentCommand
  Object parent;

  @Option(names = "--json", description = "Print one JSON object (schema in the README) instead of the text report.")
  boolean json;

  @Option(names = "--timeout", paramLabel = "DURATION",
      description = "How long the whole check may take: 5s (the default), 1500ms, 1m; at least 500ms, at most 2m.")
  String timeout;

  @Override
  public Integer call() throws Exception {
    GlobalOptions global = parent instanceof DerptunCommand t ? t.options : ((DerpholeCommand) parent).options;
    boolean verbose = global.verbose;
    String derpMap = global.derpMap;
    Duration budget = timeout == null ? DEFAULT_TIMEOUT : parseTimeout(timeout);
    Reporter reporter = verbose ? Reporter.to(System.err) : Reporter.SILENT;
    ProxyNotice.check(reporter);
    DerpMapSource.Resolved resolved;
    try {
      resolved = DerpMapSource.resolve(derpMap, System.getenv(), SessionSetup.MAP_TIMEOUT);
    } catch (DerpMapException e) {
      throw new SessionException(e.getMessage(), e);
    }
    String tool = parent instanceof DerptunCommand ? "derptun" : "derphole";
    resolved.warning().ifPresent(w -> Stderr.errors().println(tool + ": " + PeerText.printable(w)));
    reporter.event("derp-map", resolved.source() + ", " + resolved.map().regionsById().size() + " regions");
    NetcheckReport report = Netcheck.run(resolved.map(),
        new Netcheck.Options(budget, true, null, line -> reporter.event("netcheck", line)));
    System.out.print(json ? report.toJson() + System.lineSeparator() : report.toText());
    System.out.flush();
    return Launcher.OK;
  }

  /** {@code 5s}, {@code 1.5s}, {@code 1500ms}, {@code 1m}, or plain seconds. */
  static Duration parseTimeout(String text) {
    Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new Launcher.UsageException("--timeout takes a duration such as 5s, 1500ms or 1m, got '"
          + PeerText.printable(text) + "'");
    }
    double n = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    double millis = switch (unit) {
      case "ms" -> n;
      case "m" -> n * 60_000;
      default -> n * 1000;
    };
    Duration d = Duration.ofMillis(Math.round(millis));
    if (d.compareTo(MIN_TIMEOUT) < 0 || d.compareTo(MAX_TIMEOUT) > 0) {
      throw new Launcher.UsageException("--timeout must be between 500ms and 2m, got " + text.trim());
    }
    return d;
  }
}
