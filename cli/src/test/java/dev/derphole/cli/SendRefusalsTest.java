package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code derphole send} refuses before it asks the relay for anything. */
class SendRefusalsTest {
  @TempDir Path dir;

  private static List<String> java(String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "dev.derphole.cli.DerpholeCommand"));
    cmd.addAll(List.of(args));
    return cmd;
  }

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

  /** Ctrl-D at once on a terminal: nothing typed is a mistake, not an empty message to send. */
  @Test
  void anEmptyMessageTypedOnATerminalIsRefused() throws Exception {
    Path ctrlD = Files.write(dir.resolve("typed"), new byte[] {4});
    String cmd = String.join(" ", java("send").stream().map(a -> "'" + a + "'").toList());
    Process p = new ProcessBuilder("script", "-qec", cmd, "/dev/null").directory(dir.toFile())
        .redirectInput(ctrlD.toFile()).redirectOutput(dir.resolve("tty").toFile())
        .redirectError(dir.resolve("stderr").toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String tty = Files.readString(dir.resolve("tty"));
    assertThat(p.exitValue()).as("terminal:%n%s", tty).isEqualTo(2);
    assertThat(tty).contains("derphole: nothing to send: the message is empty").doesNotContain("derphole receive");
  }
}
