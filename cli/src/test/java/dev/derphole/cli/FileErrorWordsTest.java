package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file the user named that cannot be read or written: one line that says why, in words. */
class FileErrorWordsTest {
  @TempDir Path dir;

  private String fails(int code, String mainClass, String... args) throws Exception {
    Process p = DerperProcessTest.java(dir, mainClass, args);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String stderr = Files.readString(dir.resolve("stderr")).strip();
    assertThat(p.exitValue()).as(stderr).isEqualTo(code);
    assertThat(Files.readString(dir.resolve("stdout"))).isEmpty();
    return stderr;
  }

  @Test
  void aMissingTokenFileIsNamedWithoutAJavaClassName() throws Exception {
    Path missing = dir.resolve("client.dtc");
    assertThat(fails(2, "dev.derphole.cli.DerptunCommand", "open", "--token-file", missing.toString()))
        .isEqualTo("derptun: --token-file: cannot read " + missing + ": no such file or directory");
  }

  @Test
  void anOutputInAMissingDirectorySaysTheDirectoryIsMissing() throws Exception {
    Path map = dir.resolve("map.json");
    Files.writeString(map, """
        {"Regions":{"900":{"RegionID":900,"RegionCode":"test","Nodes":[{"Name":"900a","RegionID":900,
        "HostName":"127.0.0.1","IPv4":"127.0.0.1","DERPPort":1,"STUNPort":-1,"InsecureForTests":true}]}}}
        """);
    Path out = dir.resolve("missing/server.dts");
    assertThat(fails(1, "dev.derphole.cli.DerptunCommand", "--derp-map", map.toString(), "token", "server",
        "--output", out.toString()))
        .isEqualTo("derptun: cannot write " + out + ": no such directory");
  }
}
