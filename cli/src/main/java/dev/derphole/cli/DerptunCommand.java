package dev.derphole.cli;

import java.util.concurrent.Callable;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code derptun}: durable TCP tunnels with reusable, expiring tokens. */
@Command(name = "derptun", mixinStandardHelpOptions = true, versionProvider = Version.class,
    usageHelpWidth = 100,
    description = {
        "Keep a durable TCP tunnel to a service behind NAT, such as SSH.",
        "Its tokens are reusable and expire.",
        "",
        "  host$   derptun token server --output server.dts                          # mode 0600",
        "  host$   derptun token client --token-file server.dts --days 7 --output client.dtc",
        "  host$   derptun serve --token-file server.dts --tcp 127.0.0.1:22",
        "  client$ derptun open --token-file client.dtc --listen 127.0.0.1:2222",
        "  client$ ssh -o ProxyCommand='derptun connect --token-file client.dtc --stdio' me@host",
        ""},
    subcommands = {DerptunTokenCommand.class, DerptunServeCommand.class, DerptunOpenCommand.class,
        DerptunConnectCommand.class, NetcheckCommand.class, VersionCommand.class, CommandLine.HelpCommand.class})
final class DerptunCommand implements Callable<Integer> {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  GlobalOptions options;

  @Mixin
  OutputOptions output;

  public static void main(String[] args) {
    System.exit(Launcher.run(new DerptunCommand(), "derptun", Level.WARNING, args));
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(System.err); // no command given: a usage error, like `derphole ssh`
    return Launcher.USAGE_ERROR;
  }
}
