package dev.derphole.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** The build's version, from a resource Maven fills in. */
final class Version implements CommandLine.IVersionProvider {
  static String get() {
    Properties p = new Properties();
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      return "dev";
    }
    return p.getProperty("version", "dev");
  }

  @Override
  public String[] getVersion() {
    return new String[] {get()};
  }
}
