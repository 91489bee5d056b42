package dev.derphole.cli;

import java.util.concurrent.Callable;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code derphole}: move bytes, files and TCP services between two machines behind NAT. */
@Command(name = "derphole", mixinStandardHelpOptions = true, versionProvider = Version.class,
    usageHelpWidth = 100,
    description = {
        "Move bytes, files and TCP services between two machines behind NAT.",
        "The bytes go through a DERP relay first, then over direct, encrypted UDP once NAT traversal",
        "succeeds.",
        ""},
    subcommands = {ListenCommand.class, PipeCommand.class, SendCommand.class, ReceiveCommand.class, ShareCommand.class,
        OpenCommand.class, SshCommand.class, NetcheckCommand.class, VersionCommand.class, CommandLine.HelpCommand.class})
final class DerpholeCommand implements Callable<Integer> {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  GlobalOptions options;

  @Mixin
  OutputOptions output;

  public static void main(String[] args) {
    System.exit(Launcher.run(new DerpholeCommand(), "derphole", Level.WARNING, args));
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(System.err); // no command given: a usage error, like `derphole ssh`
    return Launcher.USAGE_ERROR;
  }
}
