package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * derptun end to end with real processes: a real {@code derper}, a real {@code sshd} on loopback,
 * one {@code derptun serve} in front of it for the whole class, and real {@code ssh}/{@code scp}
 * clients reaching it through {@code derptun connect --stdio} (ProxyCommand) and {@code derptun
 * open}.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class DerptunIT extends RelayedIT {
  static final Duration SSH = Duration.ofSeconds(90);

  private static Sshd sshd;
  private static Derphole serve;
  private static Path serverFile;
  private static Path clientFile;
  private static Path otherClientFile;

  @BeforeAll
  static void startSshdAndServe(@TempDir Path shareDir) throws Exception {
    sshd = Sshd.start(shared, shareDir.resolve("sshd"));
    serverFile = shareDir.resolve("server.dts");
    Derphole mint = Derptun.start(shared, shareDir, "token-server", relay.mapFile(), "token", "server", "--output",
        serverFile.toString());
    mint.assertExit(0, Derptun.TOKEN_EXIT);
    String client = Derptun.token(shared, shareDir, "token-client", relay.mapFile(), "dtc1_", "token", "client",
        "--token-file", serverFile.toString(), "--days", "7");
    String other = Derptun.token(shared, shareDir, "token-client-2", relay.mapFile(), "dtc1_", "token", "client",
        "--token-file", serverFile.toString());
    assertThat(other).isNotEqualTo(client);
    clientFile = Derptun.file(shareDir, "client.dtc", client);
    otherClientFile = Derptun.file(shareDir, "other.dtc", other);
    serve = Derptun.start(shared, shareDir, "serve", relay.mapFile(), "--verbose", "serve", "--token-file",
        serverFile.toString(), "--tcp", "127.0.0.1:" + sshd.port());
    serve.awaitEvent("relay-connected");
  }

  /** Replaces {@link RelayedIT#stopProcesses}: sshd's session children need a moment to go. */
  @Override
  @AfterEach
  void stopProcesses() throws Exception {
    processes.close();
    awaitSshdSessionsGone();
    processes.assertNoneLeft(shared.pids());
    assertThat(serve.process.isAlive()).as("serve survives every test; stderr:%n%s", serve.stderr()).isTrue();
  }

  /** sshd's per-connection children end shortly after their client: wait for that, bounded, before counting strays. */
  static void awaitSshdSessionsGone() throws InterruptedException {
    awaitNoStrays(shared.pids());
  }

  /** Waits (bounded) until no child of the test JVM but {@code allowed} is alive. */
  static void awaitNoStrays(Set<Long> allowed) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline && ProcessHandle.current().descendants()
        .anyMatch(h -> h.isAlive() && !allowed.contains(h.pid()))) {
      Thread.sleep(50);
    }
  }

  @Test
  void tokenFilesAreWrittenPrivateAndTheServerTokenIsNotPrinted() throws Exception {
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(serverFile))).isEqualTo("rw-------");
    assertThat(Files.readString(serverFile)).matches("dts1_[A-Za-z0-9_-]+\n");
    String shared = Derptun.token(processes, dir, "shared", relay.mapFile(), "dtt1_", "token", "--days", "7");
    assertThat(shared).doesNotContain(Files.readString(serverFile).strip());
    assertThat(serve.stderr()).as("--verbose never shows a token").doesNotContain("dts1_").doesNotContain("dtc1_");
  }

  @Test
  void sshWithProxyCommandRunsACommand() throws Exception {
    List<String> cmd = sshd.ssh(Derptun.proxyCommand(clientFile, "--verbose"), "echo", "through-derptun-$((6*7))");
    String out = Derptun.run(processes, dir, "ssh", relay.mapFile(), cmd, SSH);
    assertThat(out).isEqualTo("through-derptun-42\n");
    assertThat(Relay.read(dir.resolve("ssh.stderr"))).contains("tunnel-up").doesNotContain("dtc1_");
  }

  @Test
  void scpOf50MiBThroughOpenArrivesIntact() throws Exception {
    Path file = Bytes.randomFile(dir.resolve("big.bin"), 50L << 20, 7);
    Derphole open = Derptun.start(processes, dir, "open", relay.mapFile(), "open", "--token-file", clientFile.toString(),
        "--listen", "127.0.0.1:0");
    int port = Derptun.listeningPort(open);
    Path copy = dir.resolve("copy.bin");
    List<String> scp = new ArrayList<>(List.of("scp", "-O", "-F", "/dev/null", "-P", Integer.toString(port)));
    scp.addAll(sshd.clientOptions());
    scp.addAll(List.of(file.toString(), Sshd.user() + "@127.0.0.1:" + copy));
    Derptun.run(processes, dir, "scp", relay.mapFile(), scp, Duration.ofSeconds(150));
    assertThat(Bytes.sha256(copy)).as("SHA-256 of the copy").isEqualTo(Bytes.sha256(file));
    // The same listener serves more connections: a second one after the first has closed.
    String again = Derptun.run(processes, dir, "ssh-again", relay.mapFile(),
        sshd.ssh(List.of("-p", Integer.toString(port)), "echo", "again"), SSH);
    assertThat(again).isEqualTo("again\n");
    assertThat(open.stdout).as("open prints nothing on stdout").isEmptyFile();
  }

  @Test
  void twoClientsAtOnce() throws Exception {
    // Client one: an interactive session through `open` that stays up until we write a line.
    Derphole open = Derptun.start(processes, dir, "open", relay.mapFile(), "open", "--token-file", clientFile.toString());
    int port = Derptun.listeningPort(open);
    ProcessBuilder pb = new ProcessBuilder(sshd.ssh(List.of("-p", Integer.toString(port)),
        "read line; echo first-got-$line")).directory(dir.toFile())
        .redirectOutput(dir.resolve("first.stdout").toFile()).redirectError(dir.resolve("first.stderr").toFile());
    Derptun.environment(pb, relay.mapFile());
    Process first = processes.start(pb);
    Derphole firstView = new Derphole("first ssh", first, dir.resolve("first.stdout"), dir.resolve("first.stderr"));
    // Client two (another client token) while the first session is open: both are connected.
    String second = Derptun.run(processes, dir, "second", relay.mapFile(),
        sshd.ssh(Derptun.proxyCommand(otherClientFile), "echo", "second-ok"), SSH);
    assertThat(second).isEqualTo("second-ok\n");
    serve.awaitStderr(java.util.regex.Pattern.compile("client-connected .*\\(2 connected\\)"));
    try (OutputStream in = first.getOutputStream()) {
      in.write("hello\n".getBytes(StandardCharsets.US_ASCII));
    }
    firstView.assertExit(0, SSH);
    assertThat(Files.readString(dir.resolve("first.stdout"))).isEqualTo("first-got-hello\n");
  }

  @Test
  void theReadmeCommandsWorkVerbatimWithOneSharedToken() throws Exception {
    // As in the original README: one token for both sides, passed as text and as a path.
    Derphole mint = Shell.start(processes, dir, "mint", relay.mapFile(), "derptun token --days 7 > alpha.token");
    mint.assertExit(0, Derptun.TOKEN_EXIT);
    Derphole alpha = Shell.start(processes, dir, "alpha-serve", relay.mapFile(),
        "exec derptun serve --token \"$(cat alpha.token)\" --tcp 127.0.0.1:" + sshd.port());
    alpha.awaitStderr(java.util.regex.Pattern.compile("serving 127\\.0\\.0\\.1:"));
    Derphole open = Shell.start(processes, dir, "alpha-open", relay.mapFile(),
        "exec derptun open --token \"$(cat alpha.token)\" --listen 127.0.0.1:0");
    int port = Derptun.listeningPort(open);
    String viaOpen = Derptun.run(processes, dir, "ssh-open", relay.mapFile(),
        sshd.ssh(List.of("-p", Integer.toString(port)), "echo", "via-open"), SSH);
    assertThat(viaOpen).isEqualTo("via-open\n");
    List<String> proxy = List.of("-o", "ProxyCommand " + Processes.bin("derptun") + " connect --token "
        + dir.resolve("alpha.token") + " --stdio");
    String viaConnect = Derptun.run(processes, dir, "ssh-connect", relay.mapFile(), sshd.ssh(proxy, "echo", "via-connect"), SSH);
    assertThat(viaConnect).isEqualTo("via-connect\n");
  }
}
