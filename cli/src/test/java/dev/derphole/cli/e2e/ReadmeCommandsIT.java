package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command line of the Go original's README, typed verbatim into {@code bash} with our
 * launchers on {@code PATH} in place of {@code npx -y derphole@latest}, against a local relay:
 * the data arrives, tokens and prompts are on stderr, data alone on stdout, and the exit codes
 * are 0. Placeholders of the README ({@code <token>}, {@code /restore/path}, {@code /srv/data})
 * are replaced by the token printed and by the test's directories. Needs {@code pv} and
 * {@code tar} (installed by {@code .ci/run}).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ReadmeCommandsIT {
  static final Duration TRANSFER = Duration.ofSeconds(150);
  /** The command the issuer prints after "On the other machine, run:". */
  static final Pattern PIPE_LINE = Pattern.compile("(?m)^On the other machine, run:\\R^derphole pipe (\\S+)\\R");

  private static final Processes shared = new Processes();
  private static Relay relay;

  private final Processes processes = new Processes();
  @TempDir Path dir;

  @BeforeAll
  static void startRelay(@TempDir Path relayDir) throws Exception {
    relay = Relay.start(shared, relayDir, false);
  }

  @AfterAll
  static void stopRelay() throws Exception {
    shared.close();
    shared.assertNoneLeft(Set.of());
  }

  @AfterEach
  void stopProcesses() throws Exception {
    processes.close();
    processes.assertNoneLeft(shared.pids());
  }

  private Derphole run(String name, String line) {
    return Shell.start(processes, dir, name, relay.mapFile(), line);
  }

  /** Runs the issuer line, then the claimant line with {@code <token>} replaced; both exit 0. */
  private Derphole[] pair(String issuerLine, String claimantLine) throws Exception {
    Derphole issuer = run("issuer", issuerLine);
    String token = issuer.awaitStderr(PIPE_LINE).group(1);
    Derphole claimant = run("claimant", claimantLine.replace("<token>", token));
    claimant.assertExit(0, TRANSFER);
    issuer.assertExit(0, TRANSFER);
    return new Derphole[] {issuer, claimant};
  }

  @Test
  void listenToAFileFromCatIntoPipe() throws Exception {
    Bytes.randomFile(dir.resolve("disk.img"), 3 << 20, 1);
    Derphole[] p = pair("derphole listen > received.img", "cat ./disk.img | derphole pipe <token>");
    assertThat(Bytes.sha256(dir.resolve("received.img"))).isEqualTo(Bytes.sha256(dir.resolve("disk.img")));
    assertThat(p[1].stdout).isEmptyFile();
    assertThat(p[1].stderr()).isEmpty();
  }

  @Test
  void printfHelloIntoPipe() throws Exception {
    Derphole[] p = pair("derphole listen", "printf 'hello\\n' | derphole pipe <token>");
    assertThat(Files.readString(p[0].stdout)).isEqualTo("hello\n");
  }

  @Test
  void throughPvOnBothSides() throws Exception {
    Bytes.randomFile(dir.resolve("disk.img"), 2 << 20, 2);
    Derphole[] p = pair("derphole listen | pv -brt > received.img", "cat ./disk.img | pv -brt | derphole pipe <token>");
    assertThat(Bytes.sha256(dir.resolve("received.img"))).isEqualTo(Bytes.sha256(dir.resolve("disk.img")));
    assertThat(p[0].stdout).isEmptyFile();
  }

  @Test
  void aDirectoryTreeThroughTar() throws Exception {
    Path data = Files.createDirectories(dir.resolve("srv/data/nested/deeper"));
    Files.writeString(data.resolve("a.txt"), "alpha\n");
    Files.writeString(data.getParent().resolve("b.txt"), "beta\n");
    Files.createDirectories(dir.resolve("srv/data/empty"));
    Path restore = Files.createDirectories(dir.resolve("restore/path"));
    pair("derphole listen | tar -xpf - -C " + restore, "tar -cpf - " + dir.resolve("srv/data") + " | derphole pipe <token>");
    Path restored = restore.resolve(dir.resolve("srv/data").toString().substring(1));
    assertThat(restored.resolve("nested/deeper/a.txt")).hasContent("alpha");
    assertThat(restored.resolve("nested/b.txt")).hasContent("beta");
    assertThat(restored.resolve("empty")).isEmptyDirectory();
  }

  @Test
  void verboseBeforeTheSubcommandShowsThePath() throws Exception {
    Derphole[] p = pair("derphole --verbose listen", "printf 'x' | derphole --verbose pipe <token>");
    for (Derphole side : p) {
      assertThat(side.stderr()).containsPattern("(?m)^connected-(relay|direct)\\b");
    }
    assertThat(Files.readString(p[0].stdout)).isEqualTo("x");
  }

  @Test
  void version() throws Exception {
    Derphole v = run("version", "derphole version");
    v.assertExit(0, TRANSFER);
    assertThat(Files.readString(v.stdout).strip()).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    assertThat(v.stderr()).isEmpty();
  }
}
