package dev.derphole.cli;

import java.util.concurrent.Callable;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code derptun}: durable TCP tunnels with reusable, expiring tokens. */
@Command(name = "derptun", mixinStandardHelpOptions = true, versionProvider = Version.class,
    usageHelpWidth = 100,
    description = {
        "Keeps a durable TCP tunnel to a service behind NAT (usually SSH), with reusable, expiring tokens.",
        ""},
    subcommands = {VersionCommand.class, CommandLine.HelpCommand.class})
final class DerptunCommand implements Callable<Integer> {
  @Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(Launcher.run(new DerptunCommand(), "derptun", Level.WARNING, args));
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(System.err);
    return Launcher.OK;
  }
}
