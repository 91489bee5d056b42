package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code derphole listen} and {@code derphole pipe} as separate processes through a real
 * {@code derper} (self-signed TLS, pinned through its DERP map): whatever goes into the pipe's
 * stdin comes out of the listener's stdout, byte for byte, and both exit 0.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class StreamPipeIT extends RelayedIT {
  /** Generous bound for a transfer to finish on a loaded machine; never asserted as a duration. */
  static final Duration TRANSFER = Duration.ofSeconds(150);
  static final Path NO_INPUT = Path.of("/dev/null");

  @BeforeAll
  static void theRelayIsPinned() {
    assertThat(relay.node().certName()).startsWith("sha256-raw:");
  }

  /** listen, then pipe with {@code input} as stdin; both exit 0 and stdout is exactly the input. */
  private Derphole transfer(Path input, String... listenArgs) throws Exception {
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT, listenArgs);
    String token = listen.awaitToken();
    Derphole pipe = Derphole.start(processes, dir, "pipe", relay.mapFile(), input, "pipe", token);
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).as("SHA-256 of the listener's stdout").isEqualTo(Bytes.sha256(input));
    assertThat(listen.stdout).hasSize(Files.size(input));
    assertThat(pipe.stdout).as("pipe prints nothing on stdout").isEmptyFile();
    assertThat(pipe.stderr()).as("pipe without --verbose is silent").isEmpty();
    return listen;
  }

  @Test
  void emptyInputArrivesAsEmptyOutput() throws Exception {
    Path input = Files.createFile(dir.resolve("empty.in"));
    transfer(input, "listen");
  }

  @Test
  void oneByteArrivesIntact() throws Exception {
    Path input = Files.write(dir.resolve("one.in"), new byte[] {(byte) 0xA5});
    transfer(input, "listen");
  }

  @Test
  void everyByteValueArrivesIntact() throws Exception {
    byte[] all = new byte[256];
    for (int i = 0; i < 256; i++) {
      all[i] = (byte) i;
    }
    Path input = Bytes.repeatedFile(dir.resolve("all-bytes.in"), all, 256L * 4099);
    Derphole listen = transfer(input, "listen");
    List<String> lines = listen.stderrLines();
    assertThat(lines).as("listen without --verbose prints the token and nothing else").hasSize(2);
    assertThat(lines.get(0)).isEqualTo("On the other machine, run:");
    assertThat(lines.get(1)).matches("derphole pipe " + Derphole.TOKEN.pattern());
  }

  @Test
  void hundredMebibytesOfRandomBytesArriveIntact() throws Exception {
    Path input = Bytes.randomFile(dir.resolve("random.in"), 100L << 20, 20_260_101L);
    transfer(input, "listen");
  }

  @Test
  void tarPipedThroughDerpholeRecreatesTheTreeWithContentAndModes() throws Exception {
    Path src = Files.createDirectories(dir.resolve("src"));
    Files.createDirectories(src.resolve("a/b/c"));
    Files.writeString(src.resolve("a/b/c/deep.txt"), "three levels down\n");
    Bytes.randomFile(src.resolve("a/b/blob.bin"), 300_000, 7);
    Files.createDirectories(src.resolve("empty dir"));
    Files.createDirectories(src.resolve("empty"));
    Files.writeString(src.resolve("file with spaces.txt"), "spaces in the name\n");
    Files.writeString(src.resolve("secret.key"), "only the owner reads this\n");
    Files.writeString(src.resolve("run.sh"), "#!/bin/sh\necho hi\n");
    Files.createDirectories(src.resolve("private"));
    Files.writeString(src.resolve("private/notes"), "x");
    try (Stream<Path> all = Files.walk(src)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    Files.setPosixFilePermissions(src.resolve("secret.key"), PosixFilePermissions.fromString("rw-------"));
    Files.setPosixFilePermissions(src.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(src.resolve("private/notes"), PosixFilePermissions.fromString("rw-------"));
    Files.setPosixFilePermissions(src.resolve("private"), PosixFilePermissions.fromString("rwx------"));
    Path out = Files.createDirectories(dir.resolve("out"));

    // derphole listen | tar -xpf - -C out
    ProcessBuilder listenB = Derphole.builder(dir, "listen", relay.mapFile(), "listen")
        .redirectInput(NO_INPUT.toFile());
    ProcessBuilder untar = new ProcessBuilder("tar", "-xpf", "-", "-C", out.toString()).directory(dir.toFile())
        .redirectOutput(dir.resolve("untar.stdout").toFile()).redirectError(dir.resolve("untar.stderr").toFile());
    List<Process> down = processes.startPipeline(List.of(listenB, untar));
    Derphole listen = new Derphole("listen", down.get(0), null, dir.resolve("listen.stderr"));
    String token = listen.awaitToken();

    // tar -cpf - -C src . | derphole pipe TOKEN
    ProcessBuilder tar = new ProcessBuilder("tar", "-cpf", "-", "-C", src.toString(), ".").directory(dir.toFile())
        .redirectInput(NO_INPUT.toFile()).redirectError(dir.resolve("tar.stderr").toFile());
    ProcessBuilder pipeB = Derphole.builder(dir, "pipe", relay.mapFile(), "pipe", token)
        .redirectOutput(dir.resolve("pipe.stdout").toFile());
    List<Process> up = processes.startPipeline(List.of(tar, pipeB));
    Derphole pipe = new Derphole("pipe", up.get(1), dir.resolve("pipe.stdout"), dir.resolve("pipe.stderr"));

    assertThat(up.get(0).waitFor(TRANSFER.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(up.get(0).exitValue()).as("tar -c: %s", Relay.read(dir.resolve("tar.stderr"))).isZero();
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(down.get(1).waitFor(TRANSFER.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(down.get(1).exitValue()).as("tar -x: %s", Relay.read(dir.resolve("untar.stderr"))).isZero();
    assertThat(pipe.stdout).isEmptyFile();

    Map<String, String> expected = describeTree(src);
    assertThat(expected).containsKeys("empty/", "empty dir/", "file with spaces.txt", "a/b/c/deep.txt");
    assertThat(expected.get("secret.key")).startsWith("rw------- ");
    assertThat(expected.get("run.sh")).startsWith("rwxr-xr-x ");
    assertThat(describeTree(out)).isEqualTo(expected);
  }

  /** Relative path (directories end in /) → permissions and, for files, the SHA-256 of the content. */
  private static Map<String, String> describeTree(Path root) throws IOException {
    Map<String, String> tree = new TreeMap<>();
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        if (p.equals(root)) {
          continue;
        }
        String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
        String rel = root.relativize(p).toString();
        if (Files.isDirectory(p)) {
          tree.put(rel + "/", perms + " dir");
        } else {
          tree.put(rel, perms + " " + Bytes.sha256(p));
        }
      }
    }
    return tree;
  }

  @Test
  void verboseListenReportsWaitingClaimedConnectedAndCompleteInOrder() throws Exception {
    Path input = Bytes.randomFile(dir.resolve("verbose.in"), 123_457, 3);
    // The relay from --derp-map, not the environment.
    Derphole listen = Derphole.start(processes, dir, "listen", null, NO_INPUT,
        "--verbose", "--derp-map", relay.mapFile().toString(), "listen");
    String token = listen.awaitToken();
    listen.awaitEvent("waiting-for-claim");
    Derphole pipe = Derphole.start(processes, dir, "pipe", null, input, "pipe", token);
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).isEqualTo(Bytes.sha256(input));

    List<String> lines = listen.stderrLines();
    List<Integer> at = new ArrayList<>();
    for (String event : List.of("waiting-for-claim", "claimed", "connected-relay", "stream-complete")) {
      int index = -1;
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).equals(event) || lines.get(i).startsWith(event + " ")) {
          index = i;
          break;
        }
      }
      assertThat(index).as("event %s in listen's stderr:%n%s", event, listen.stderr()).isNotNegative();
      at.add(index);
    }
    assertThat(at).as("order of the events in:%n%s", listen.stderr()).isSorted().doesNotHaveDuplicates();
    assertThat(lines.get(at.get(3))).matches("stream-complete 123457 bytes \\+\\d+\\.\\d{3}s");
    int tokenLine = lines.indexOf("derphole pipe " + token);
    assertThat(tokenLine).as("the token is printed before waiting-for-claim").isBetween(0, at.get(0));
  }

  @Test
  void threeLanesAsBothSidesAskArriveIntactAndSayHowManyAndWhatEachCarried() throws Exception {
    Path input = Bytes.randomFile(dir.resolve("lanes.in"), 48L << 20, 34);
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT, "--verbose", "listen", "-P", "3");
    String token = listen.awaitToken();
    Derphole pipe = Derphole.start(processes, dir, "pipe", relay.mapFile(), input, "--verbose", "pipe", "--parallel", "3", token);
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).isEqualTo(Bytes.sha256(input));
    assertThat(pipe.stdout).isEmptyFile();
    assertThat(pipe.stderrLines()).as(pipe.stderr()).anyMatch(l -> l.matches("lanes 3 \\(fixed\\) \\+\\d+\\.\\d{3}s"));
    assertThat(pipe.stderrLines()).as(pipe.stderr()).anyMatch(l -> l.matches("lane-rate 0 \\d+ bytes \\d+\\.\\d Mbit/s \\+.*"));
    assertThat(listen.stderrLines()).as(listen.stderr()).anyMatch(l -> l.startsWith("stream-complete " + (48L << 20) + " bytes"));
  }

  @Test
  void aParallelThatIsNotOneToSixteenOrAutoIsAUsageError() throws Exception {
    for (String bad : List.of("0", "17", "two", "4x")) {
      Derphole p = Derphole.start(processes, dir, "bad-" + bad, relay.mapFile(), NO_INPUT, "listen", "--parallel", bad);
      p.assertExit(2, TRANSFER);
      assertThat(p.stderrLines()).containsExactly("derphole: --parallel takes 1-16 or auto, got '" + bad + "'");
      assertThat(p.stdout).isEmptyFile();
    }
  }

  @Test
  void printTokenOnlyPrintsExactlyTheTokenLineBeforeTheTransfer() throws Exception {
    Path input = Bytes.randomFile(dir.resolve("token-only.in"), 65_537, 5);
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT,
        "listen", "--print-token-only");
    String token = listen.awaitBareToken();
    assertThat(listen.stderr()).as("before any claim: the token line alone").isEqualTo(token + System.lineSeparator());
    assertThat(listen.stdout).isEmptyFile();

    Derphole pipe = Derphole.start(processes, dir, "pipe", relay.mapFile(), input, "pipe", token);
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).isEqualTo(Bytes.sha256(input));
    assertThat(listen.stderr()).as("after the transfer: still the token line alone").isEqualTo(token + System.lineSeparator());
  }
}
