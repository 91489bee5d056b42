package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code derphole send} and {@code derphole receive} as two processes through a real relay: text,
 * files and directory trees arrive byte for byte and mode for mode, both sides exit 0, and stdout
 * carries nothing but a text message.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class SendReceiveIT extends SendReceiveDirsIT {
  static final Duration TRANSFER = Duration.ofSeconds(180);

  /** send ARGS in {@code from}, receive RECEIVE_ARGS in {@code to}; both must exit 0. */
  private Derphole[] transfer(Path stdin, String[] sendArgs, String... receiveArgs) throws Exception {
    Derphole send = Offers.send(processes, from, relay, stdin, sendArgs);
    Derphole receive = Offers.receive(processes, to, relay, Offers.token(send), receiveArgs);
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    assertThat(send.stdout).isEmptyFile();
    return new Derphole[] {send, receive};
  }

  @Test
  void textFromTheCommandLineGoesToStdout() throws Exception {
    Derphole[] both = transfer(Path.of("/dev/null"), new String[] {"hello, wörld"});
    assertThat(Files.readString(both[1].stdout, StandardCharsets.UTF_8)).isEqualTo("hello, wörld");
    assertThat(both[0].stderrLines().get(0)).isEqualTo("Sending text message (13 B)");
    assertThat(both[1].stderr()).contains("Receiving text message (13 B)");
    // Both sides show the same verification code.
    java.util.regex.Matcher sent = java.util.regex.Pattern.compile("verification code (\\S+)").matcher(both[0].stderr());
    assertThat(sent.find()).as("sender shows a code:%n%s", both[0].stderr()).isTrue();
    assertThat(both[1].stderr()).contains("(verification code " + sent.group(1) + ")");
    assertThat(Offers.names(to)).containsOnly("receive.stderr", "receive.stdout");
  }

  @Test
  void textFromStdinArrivesExactly() throws Exception {
    byte[] text = "line one\nline two — ünïcode\n\ttabbed\n".getBytes(StandardCharsets.UTF_8);
    Path in = Files.write(dir.resolve("text.in"), text);
    Derphole[] both = transfer(in, new String[0]);
    assertThat(Files.readAllBytes(both[1].stdout)).isEqualTo(text);
  }

  @Test
  void anEmptyFileArrivesEmpty() throws Exception {
    Files.createFile(from.resolve("empty"));
    Derphole[] both = transfer(Path.of("/dev/null"), new String[] {"empty"});
    assertThat(to.resolve("empty")).exists().isEmptyFile();
    assertThat(both[1].stdout).isEmptyFile();
    assertThat(both[0].stderrLines().get(0)).isEqualTo("Sending 0 B file named \"empty\"");
  }

  @Test
  void a100MiBFileArrivesByteForByteWithOnlyTheSummaryWhenStderrIsNotATerminal() throws Exception {
    Path file = Bytes.randomFile(from.resolve("big file.bin"), 100L << 20, 5);
    Derphole[] both = transfer(Path.of("/dev/null"), new String[] {"big file.bin"});
    assertThat(Bytes.sha256(to.resolve("big file.bin"))).isEqualTo(Bytes.sha256(file));
    assertThat(both[0].stderrLines().get(0)).isEqualTo("Sending 100.0 MiB file named \"big file.bin\"");
    assertThat(both[1].stderr()).contains("Receiving file (100.0 MiB) into \"" + to.resolve("big file.bin") + "\"")
        .doesNotContain("\r").containsPattern("(?m)^Received 100\\.0 MiB in [0-9.]+ s \\(.+/s average\\)$");
    assertThat(both[0].stderr()).doesNotContain("\r").containsPattern("(?m)^Sent 100\\.0 MiB in ");
    assertThat(both[1].stdout).isEmptyFile();
    // Nothing else: no temporary left beside it.
    assertThat(Offers.names(to)).containsOnly("big file.bin", "receive.stderr", "receive.stdout");
  }

  @Test
  void aDirectoryTreeArrivesWithNestedAndEmptyDirectoriesOddNamesAndModes() throws Exception {
    Path tree = Files.createDirectories(from.resolve("my tree"));
    Files.createDirectories(tree.resolve("a/b/c"));
    Files.createDirectories(tree.resolve("empty dir"));
    Files.createDirectories(tree.resolve("ünïcødé/日本語"));
    Files.writeString(tree.resolve("a/b/c/deep.txt"), "deep\n");
    Files.writeString(tree.resolve("ünïcødé/日本語/ファイル.txt"), "こんにちは\n");
    Files.writeString(tree.resolve("with space.txt"), "spaced\n");
    Bytes.randomFile(tree.resolve("a/random.bin"), 3_000_001, 9);
    Files.createFile(tree.resolve("a/empty file"));
    Files.writeString(tree.resolve("run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(tree.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
    Files.setPosixFilePermissions(tree.resolve("with space.txt"), PosixFilePermissions.fromString("rw-------"));
    Files.setPosixFilePermissions(tree.resolve("a/b"), PosixFilePermissions.fromString("rwx--x---"));
    Files.setPosixFilePermissions(tree.resolve("empty dir"), PosixFilePermissions.fromString("r-xr-xr-x"));
    Files.setPosixFilePermissions(tree, PosixFilePermissions.fromString("rwxr-x--x"));
    String longName = "n".repeat(150) + ".txt"; // beyond ustar's 100-byte name field
    Files.writeString(tree.resolve("a/" + longName), "long\n");
    Derphole[] both = transfer(Path.of("/dev/null"), new String[] {"my tree"});
    assertThat(Offers.tree(to.resolve("my tree"))).isEqualTo(Offers.tree(tree)).hasSize(14);
    assertThat(both[0].stderrLines().get(0)).isEqualTo("Sending directory named \"my tree\" (7 files, 2.9 MiB; 2.9 MiB as a tar stream)");
    assertThat(both[1].stderr()).contains("Receiving directory (7 files, 2.9 MiB; 2.9 MiB as a tar stream) into \""
        + to.resolve("my tree") + "/\"");
    assertThat(Offers.names(to)).containsOnly("my tree", "receive.stderr", "receive.stdout");
  }

  /** {@code receive TOKEN} in {@code to}, started by a shell that first sets {@code umask MASK}, as a user's would. */
  private Derphole receiveUnderUmask(String mask, String token) {
    ProcessBuilder pb = Derphole.builder(to, "receive", relay.mapFile(), "receive", token);
    List<String> cmd = new ArrayList<>(List.of("sh", "-c", "umask " + mask + " && exec \"$@\"", "sh"));
    cmd.addAll(pb.command());
    pb.command(cmd).redirectOutput(to.resolve("receive.stdout").toFile()).redirectInput(Path.of("/dev/null").toFile());
    return new Derphole("receive", processes.start(pb), to.resolve("receive.stdout"), to.resolve("receive.stderr"));
  }

  @Test
  void receivedModesFollowTheReceiversUmask() throws Exception {
    Path open = Files.createDirectories(from.resolve("open/sub"));
    Files.writeString(open.resolve("f"), "f\n");
    Files.writeString(from.resolve("single.txt"), "single\n");
    for (Path p : List.of(open.getParent(), open)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
    }
    for (Path p : List.of(open.resolve("f"), from.resolve("single.txt"))) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw-rw-"));
    }
    for (String what : List.of("open", "single.txt")) {
      Derphole send = Offers.send(processes, from, relay, Path.of("/dev/null"), what);
      Derphole receive = receiveUnderUmask("027", Offers.token(send));
      receive.assertExit(0, TRANSFER);
      send.assertExit(0, TRANSFER);
      processes.close();
    }
    assertThat(Offers.tree(to.resolve("open"))).isEqualTo(Map.of("", "dir rwxr-x---", "sub", "dir rwxr-x---",
        "sub/f", "file rw-r----- " + Bytes.sha256(open.resolve("f"))));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(to.resolve("single.txt")))).isEqualTo("rw-r-----");
  }

  /** Small files: the tar framing outweighs them, and the lines say which figure is which. */
  @Test
  void aDirectorysSummaryNamesTheSizeThatTheFinalLinesCount() throws Exception {
    Path tree = Files.createDirectories(from.resolve("small"));
    for (String name : new String[] {"a", "b", "c"}) {
      Files.writeString(tree.resolve(name), "abc");
    }
    Derphole[] both = transfer(Path.of("/dev/null"), new String[] {"small"});
    java.util.regex.Matcher summary = java.util.regex.Pattern
        .compile("^Sending directory named \"small\" \\(3 files, 9 B; (\\S+ \\S+) as a tar stream\\)$").matcher(both[0].stderrLines().get(0));
    assertThat(summary.matches()).as(both[0].stderrLines().get(0)).isTrue();
    String travels = summary.group(1);
    assertThat(travels).isNotEqualTo("9 B");
    assertThat(both[1].stderr()).contains("Receiving directory (3 files, 9 B; " + travels + " as a tar stream)")
        .containsPattern("(?m)^Received " + java.util.regex.Pattern.quote(travels) + " in ");
    assertThat(both[0].stderr()).containsPattern("(?m)^Sent " + java.util.regex.Pattern.quote(travels) + " in ");
  }

  @Test
  void outputIntoAnExistingDirectoryOrUnderANewName() throws Exception {
    Files.writeString(from.resolve("a.txt"), "A");
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    transfer(Path.of("/dev/null"), new String[] {"a.txt"}, "-o", inbox.toString());
    assertThat(inbox.resolve("a.txt")).hasContent("A");
    processes.close();
    transfer(Path.of("/dev/null"), new String[] {"a.txt"}, "-o", "renamed.txt");
    assertThat(to.resolve("renamed.txt")).hasContent("A");
  }

  @Test
  void aliasesTxAndRxWork() throws Exception {
    Derphole send = Derphole.start(processes, from, "send", relay.mapFile(), Path.of("/dev/null"), "tx", "via alias");
    Derphole receive = Derphole.start(processes, to, "receive", relay.mapFile(), Path.of("/dev/null"), "rx",
        Offers.token(send));
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    assertThat(receive.stdout).hasContent("via alias");
  }
}
