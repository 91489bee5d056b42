package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * derptun keeps its promise when things break, with real processes: the relay restarts under a
 * live tunnel, and {@code serve} is killed and started again with the same token. Everything runs
 * relay-only ({@code --force-relay}): on one machine a direct path would carry the tunnel on without
 * the relay, and the relay is what breaks here. Waits are for observable events (verbose lines,
 * answers), never for time.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DerptunFaultsIT {
  static final Duration SSH = Duration.ofSeconds(90);

  private final Processes processes = new Processes();
  @TempDir Path dir;

  @AfterEach
  void stopProcesses() throws Exception {
    processes.close();
    DerptunIT.awaitNoStrays(Set.of());
    processes.assertNoneLeft(Set.of());
  }

  /** Waits until {@code p}'s stderr has {@code event} at least {@code n} times. */
  static void awaitEventCount(Derphole p, String event, int n) throws InterruptedException {
    p.awaitStderr(Pattern.compile("(?s)" + ("(?m:^" + Pattern.quote(event) + "\\b).*").repeat(n - 1)
        + "(?m:^" + Pattern.quote(event) + "\\b)"));
  }

  private Process interactiveSsh(Sshd sshd, int port, Path mapFile) {
    ProcessBuilder pb = new ProcessBuilder(sshd.ssh(List.of("-p", Integer.toString(port)),
        "echo ready; read line; echo still-here-$line")).directory(dir.toFile())
        .redirectOutput(dir.resolve("long.stdout").toFile()).redirectError(dir.resolve("long.stderr").toFile());
    Derptun.environment(pb, mapFile);
    return processes.start(pb);
  }

  @Test
  void theTunnelComesBackAfterARelayRestartAndOpenSessionsSurviveIt() throws Exception {
    Relay relay = Relay.start(processes, dir.resolve("relay-1"), true);
    int relayPort = relay.node().derpPort();
    Sshd sshd = Sshd.start(processes, dir.resolve("sshd"));
    Path server = Derptun.file(dir, "server.dts",
        Derptun.token(processes, dir, "token-server", relay.mapFile(), "dts1_", "token", "server"));
    Path client = Derptun.file(dir, "client.dtc", Derptun.token(processes, dir, "token-client", relay.mapFile(),
        "dtc1_", "token", "client", "--token-file", server.toString()));
    Derphole serve = Derptun.start(processes, dir, "serve", relay.mapFile(), "--verbose", "serve", "--force-relay",
        "--token-file", server.toString(), "--tcp", "127.0.0.1:" + sshd.port());
    serve.awaitEvent("relay-connected");
    Derphole open = Derptun.start(processes, dir, "open", relay.mapFile(), "--verbose", "open", "--force-relay",
        "--token-file", client.toString());
    int port = Derptun.listeningPort(open);
    Process longSession = interactiveSsh(sshd, port, relay.mapFile());
    Derphole longView = new Derphole("long ssh", longSession, dir.resolve("long.stdout"), dir.resolve("long.stderr"));
    longView.awaitStdoutSize("ready\n".length());

    relay.kill();
    serve.awaitEvent("relay-disconnected");
    open.awaitEvent("relay-disconnected");
    Relay again = Relay.start(processes, dir.resolve("relay-2"), true, relayPort);
    awaitEventCount(serve, "relay-connected", 2);

    // A new ssh through the same `open`, and one through a new `connect`.
    String viaOpen = Derptun.run(processes, dir, "ssh-open", again.mapFile(),
        sshd.ssh(List.of("-p", Integer.toString(port)), "echo", "after-restart"), SSH);
    assertThat(viaOpen).isEqualTo("after-restart\n");
    String viaConnect = Derptun.run(processes, dir, "ssh-connect", again.mapFile(),
        sshd.ssh(Derptun.proxyCommand(client, "--verbose", "--force-relay"), "echo", "connect-after-restart"), SSH);
    assertThat(viaConnect).isEqualTo("connect-after-restart\n");
    // The session that was open across the outage is still the same session.
    try (OutputStream in = longSession.getOutputStream()) {
      in.write("yes\n".getBytes(StandardCharsets.US_ASCII));
    }
    longView.assertExit(0, SSH);
    assertThat(Files.readString(dir.resolve("long.stdout"))).isEqualTo("ready\nstill-here-yes\n");
    assertThat(open.stderr()).as("the tunnel itself never went down").doesNotContain("tunnel-down");
  }

  @Test
  void clientsReconnectToARestartedServeWithoutNewTokens() throws Exception {
    Relay relay = Relay.start(processes, dir.resolve("relay"), false);
    Sshd sshd = Sshd.start(processes, dir.resolve("sshd"));
    Path server = Derptun.file(dir, "server.dts",
        Derptun.token(processes, dir, "token-server", relay.mapFile(), "dts1_", "token", "server"));
    Path client = Derptun.file(dir, "client.dtc", Derptun.token(processes, dir, "token-client", relay.mapFile(),
        "dtc1_", "token", "client", "--token-file", server.toString()));
    String[] serveArgs = {"--verbose", "serve", "--force-relay", "--token-file", server.toString(), "--tcp",
        "127.0.0.1:" + sshd.port()};
    Derphole serve = Derptun.start(processes, dir, "serve-1", relay.mapFile(), serveArgs);
    serve.awaitEvent("relay-connected");
    Derphole open = Derptun.start(processes, dir, "open", relay.mapFile(), "--verbose", "open", "--force-relay",
        "--token-file", client.toString());
    int port = Derptun.listeningPort(open);
    assertThat(Derptun.run(processes, dir, "ssh-1", relay.mapFile(),
        sshd.ssh(List.of("-p", Integer.toString(port)), "echo", "first"), SSH)).isEqualTo("first\n");

    serve.process.destroyForcibly();
    serve.process.waitFor();
    open.awaitEvent("tunnel-down");
    open.awaitEvent("reconnecting");
    Derphole restarted = Derptun.start(processes, dir, "serve-2", relay.mapFile(), serveArgs);
    restarted.awaitEvent("relay-connected");
    awaitEventCount(open, "tunnel-up", 2);
    assertThat(Derptun.run(processes, dir, "ssh-2", relay.mapFile(),
        sshd.ssh(List.of("-p", Integer.toString(port)), "echo", "second"), SSH)).isEqualTo("second\n");
    assertThat(Derptun.run(processes, dir, "ssh-3", relay.mapFile(),
        sshd.ssh(Derptun.proxyCommand(client, "--force-relay"), "echo", "third"), SSH)).isEqualTo("third\n");
    assertThat(open.stderr()).containsPattern("reconnecting in \\d+s \\(");
  }
}
