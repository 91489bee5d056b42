package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code derphole send} refuses before it asks the relay for anything. */
class SendRefusalsTest {
  @TempDir Path dir;

  /** README: links are refused. A link given on the command line too, not only one inside a directory. */
  @Test
  void aSymbolicLinkGivenAtTheTopIsRefusedLikeOneInsideADirectory() throws Exception {
    Files.writeString(dir.resolve("target.txt"), "the target\n");
    Files.createSymbolicLink(dir.resolve("link"), Path.of("target.txt"));
    Process p = DerperProcessTest.java(dir, "dev.derphole.cli.DerpholeCommand", "send", "./link");
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(1);
    assertThat(Files.readString(dir.resolve("stderr")).strip()).isEqualTo("derphole: \"./link\" is a symbolic link;"
        + " derphole send does not carry links (they could point anywhere on the other machine): remove it or send its target");
    assertThat(Files.readString(dir.resolve("stdout"))).isEmpty();
  }

}
