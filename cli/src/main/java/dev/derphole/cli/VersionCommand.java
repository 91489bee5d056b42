package dev.derphole.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code version}: prints the version on stdout. */
@Command(name = "version", mixinStandardHelpOptions = true, versionProvider = Version.class, description = "Print the version.")
final class VersionCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.out.println(Version.get());
    return Launcher.OK;
  }
}
