package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every command line of the Go original's README, typed verbatim into {@code bash} with our
 * launchers on {@code PATH} in place of {@code npx -y derphole@latest}, against a local relay:
 * the data arrives, tokens and prompts are on stderr, data alone on stdout, and the exit codes
 * are 0. Placeholders of the README ({@code <token>}, {@code <code>}, {@code /restore/path},
 * {@code /srv/data}, the user {@code deploy}) are replaced by the token printed, the test's
 * directories and the test's user. Needs {@code pv}, {@code tar}, {@code script} and OpenSSH
 * (installed by {@code .ci/run}).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ReadmeCommandsIT extends RelayedIT {
  static final Duration TRANSFER = Duration.ofSeconds(150);
  /** The command the issuer prints after "On the other machine, run:". */
  static final Pattern PIPE_LINE = Pattern.compile("(?m)^On the other machine, run:\\R^derphole pipe (\\S+)\\R");
  static final Pattern RECEIVE_LINE = Pattern.compile("(?m)^On the other machine, run:\\R^derphole receive (\\S+)\\R");
  static final Pattern OPEN_LINE = Pattern.compile("(?m)^On the other machine, run:\\R^derphole open (\\S+)\\R");
  static final Pattern LISTENING = Pattern.compile("(?m)^listening on (127\\.0\\.0\\.1:\\d+)$");
  static final Pattern ACCEPT_LINE = Pattern.compile("(?m)^On the other machine, run:\\R^derphole ssh accept (\\S+)\\R");

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

  /** send in {@code dir/sender}, receive in {@code dir/receiver}; both exit 0. */
  private Derphole[] offer(String sendLine, String receiveLine) throws Exception {
    Path sender = Files.createDirectories(dir.resolve("sender"));
    Path receiver = Files.createDirectories(dir.resolve("receiver"));
    Derphole send = Shell.start(processes, dir, sender, "send", relay.mapFile(), sendLine, java.util.Map.of());
    String token = send.awaitStderr(RECEIVE_LINE).group(1);
    Derphole receive = Shell.start(processes, dir, receiver, "receive", relay.mapFile(),
        receiveLine.replace("<code>", token), java.util.Map.of());
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    assertThat(send.stdout).as("send prints nothing on stdout").isEmptyFile();
    return new Derphole[] {send, receive};
  }

  @Test
  void sendAPhotoAndReceiveIt() throws Exception {
    Files.createDirectories(dir.resolve("sender"));
    Bytes.randomFile(dir.resolve("sender/photo.jpg"), 1 << 20, 3);
    Derphole[] p = offer("derphole send ./photo.jpg", "derphole receive <code>");
    assertThat(Bytes.sha256(dir.resolve("receiver/photo.jpg"))).isEqualTo(Bytes.sha256(dir.resolve("sender/photo.jpg")));
    assertThat(p[0].stderr()).contains("photo.jpg");
    assertThat(p[1].stdout).as("a file goes to disk, not stdout").isEmptyFile();
  }

  @Test
  void sendTextAndReceiveItOnStdout() throws Exception {
    Derphole[] p = offer("derphole send hello", "derphole receive <code>");
    assertThat(Files.readString(p[1].stdout).strip()).isEqualTo("hello");
  }

  @Test
  void sendAProjectDirectory() throws Exception {
    Path project = Files.createDirectories(dir.resolve("sender/project-dir/src/empty"));
    Files.writeString(project.getParent().resolve("Main.java"), "class Main {}\n");
    Files.writeString(project.getParent().getParent().resolve("README"), "read me\n");
    offer("derphole send ./project-dir", "derphole receive <code>");
    assertThat(Offers.tree(dir.resolve("receiver/project-dir"))).isEqualTo(Offers.tree(dir.resolve("sender/project-dir")));
  }

  @Test
  void verboseSendShowsThePath() throws Exception {
    Files.createDirectories(dir.resolve("sender"));
    Bytes.randomFile(dir.resolve("sender/photo.jpg"), 256 << 10, 4);
    Derphole[] p = offer("derphole --verbose send ./photo.jpg", "derphole receive <code>");
    assertThat(p[0].stderr()).containsPattern("(?m)^connected-(relay|direct)\\b");
    assertThat(Bytes.sha256(dir.resolve("receiver/photo.jpg"))).isEqualTo(Bytes.sha256(dir.resolve("sender/photo.jpg")));
  }

  /**
   * {@code ssh invite --user deploy} on the host ("deploy" is the README's placeholder: the test's
   * own user, whose home is a test directory through {@code DERPHOLE_SSH_HOME}); {@code ssh
   * accept <token>} on a terminal ({@code script}), answering "y", finding the user's one
   * {@code ~/.ssh/*.pub} (another test directory); then a real sshd that reads the host home's
   * {@code authorized_keys} lets that key in. Needs {@code openssh-server}.
   */
  @Test
  void sshInviteThenAcceptThenLogIn() throws Exception {
    Path home = Files.createDirectories(dir.resolve("host-home"));
    Sshd sshd = Sshd.start(processes, dir.resolve("sshd"), home.resolve(".ssh/authorized_keys"));
    Path userHome = Files.createDirectories(dir.resolve("user-home"));
    Files.createDirectories(userHome.resolve(".ssh"));
    Files.copy(sshd.clientPublicKey(), userHome.resolve(".ssh/id_ed25519.pub"));
    String user = Sshd.user();
    Derphole invite = Shell.start(processes, dir, dir, "invite", relay.mapFile(), "derphole ssh invite --user " + user,
        java.util.Map.of("DERPHOLE_SSH_HOME", home.toString()));
    String token = invite.awaitStderr(ACCEPT_LINE).group(1);
    Path typed = Files.writeString(dir.resolve("typed"), "y\n");
    Derphole accept = Shell.start(processes, dir, dir, "accept", relay.mapFile(),
        "script -qec 'derphole ssh accept " + token + "' /dev/null < " + typed,
        java.util.Map.of("DERPHOLE_SSH_HOME", userHome.toString()));
    int code = accept.exitWithin(TRANSFER);
    assertThat(code).as("accept's terminal:%n%s", Relay.read(accept.stdout)).isZero();
    invite.assertExit(0, TRANSFER);
    assertThat(Files.readString(accept.stdout)).contains("Really send this public key?");
    Process ssh = processes.start(new ProcessBuilder(sshd.ssh(java.util.List.of(), "echo", "in-through-an-accepted-key"))
        .redirectError(dir.resolve("ssh.stderr").toFile()));
    String out = new String(ssh.getInputStream().readAllBytes());
    assertThat(ssh.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(ssh.exitValue()).as("ssh: %s%nsshd: %s", Relay.read(dir.resolve("ssh.stderr")), sshd.log()).isZero();
    assertThat(out.strip()).isEqualTo("in-through-an-accepted-key");
  }

  /**
   * An HTTP service on a free port (the README's {@code 127.0.0.1:3000}) answering every GET with
   * a fixed page; {@code derphole share} it, {@code derphole open} the token, with a bind address
   * when {@code explicitBind} (the README's {@code 127.0.0.1:8080}, a free port here too), then {@code curl} through
   * the address open prints, twice (two TCP connections over one session).
   */
  private void shareAndOpen(boolean explicitBind) throws Exception {
    com.sun.net.httpserver.HttpServer web = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 16);
    byte[] page = "the page behind share\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    web.createContext("/", x -> {
      x.sendResponseHeaders(200, page.length);
      x.getResponseBody().write(page);
      x.close();
    });
    web.start();
    try {
      Derphole share = run("share", "derphole share 127.0.0.1:" + web.getAddress().getPort());
      String token = share.awaitStderr(OPEN_LINE).group(1);
      String bind = explicitBind ? "127.0.0.1:" + freePort() : null;
      Derphole open = run("open", "derphole open " + token + (bind != null ? " " + bind : ""));
      String address = open.awaitStderr(LISTENING).group(1);
      if (bind != null) {
        assertThat(address).isEqualTo(bind);
      }
      for (int i = 0; i < 2; i++) {
        Derphole curl = run("curl" + i, "curl -sS --fail --max-time 60 http://" + address + "/");
        curl.assertExit(0, TRANSFER);
        assertThat(Files.readString(curl.stdout)).isEqualTo("the page behind share\n");
      }
      assertThat(share.stdout).isEmptyFile();
      assertThat(open.stdout).isEmptyFile();
      assertThat(share.process.isAlive()).as("share stays up until Ctrl-C").isTrue();
      assertThat(open.process.isAlive()).as("open keeps listening").isTrue();
    } finally {
      web.stop(0);
    }
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void shareALocalServiceAndOpenIt() throws Exception {
    shareAndOpen(false);
  }

  @Test
  void openOnAnExplicitAddress() throws Exception {
    shareAndOpen(true);
  }

  /**
   * The derptun lines with one shared token: {@code derptun token --days 7 > alpha.token}; {@code
   * serve --token "$(cat alpha.token)" --tcp} a real sshd (the README's {@code 127.0.0.1:22});
   * {@code open --token "$(cat alpha.token)" --listen} a free port (the README's 2222), then {@code
   * ssh -p PORT user@127.0.0.1}; and an ssh config whose {@code ProxyCommand} is {@code derptun
   * connect --token ~/.config/derptun/alpha.token --stdio} (a file path given to --token, with
   * {@code ~} the test's HOME).
   */
  @Test
  void derptunWithOneTokenThroughOpenAndProxyCommand() throws Exception {
    Sshd sshd = Sshd.start(processes, dir.resolve("sshd"));
    Derphole mint = run("mint", "derptun token --days 7 > alpha.token");
    mint.assertExit(0, TRANSFER);
    assertThat(mint.stderr()).isEmpty();
    Derphole serve = run("serve", "derptun serve --token \"$(cat alpha.token)\" --tcp 127.0.0.1:" + sshd.port());
    int port = freePort();
    Derphole open = run("open", "derptun open --token \"$(cat alpha.token)\" --listen 127.0.0.1:" + port);
    open.awaitStderr(Pattern.compile("(?m)^listening on 127\\.0\\.0\\.1:" + port + "$"));
    Derphole viaOpen = run("ssh-open", String.join(" ", sshd.ssh(java.util.List.of("-p", Integer.toString(port)),
        "echo", "via-open")));
    viaOpen.assertExit(0, TRANSFER);
    assertThat(Files.readString(viaOpen.stdout)).isEqualTo("via-open\n");

    Files.createDirectories(dir.resolve(".config/derptun"));
    Files.copy(dir.resolve("alpha.token"), dir.resolve(".config/derptun/alpha.token"));
    Path config = Files.createDirectories(dir.resolve(".ssh")).resolve("config");
    Files.writeString(config, String.join("\n",
        "Host alpha",
        "  HostName 127.0.0.1",
        "  User " + Sshd.user(),
        "  IdentityFile " + sshd.clientKey(),
        "  IdentitiesOnly yes",
        "  BatchMode yes",
        "  StrictHostKeyChecking no",
        "  UserKnownHostsFile /dev/null",
        "  LogLevel ERROR",
        "  ProxyCommand derptun connect --token ~/.config/derptun/alpha.token --stdio",
        ""));
    Derphole viaProxy = run("ssh-proxy", "ssh -F " + config + " alpha echo via-proxycommand");
    viaProxy.assertExit(0, TRANSFER);
    assertThat(Files.readString(viaProxy.stdout)).isEqualTo("via-proxycommand\n");
    assertThat(serve.process.isAlive()).as("serve stays up").isTrue();
    assertThat(serve.stdout).isEmptyFile();
    assertThat(open.stdout).isEmptyFile();
    String token = Files.readString(dir.resolve("alpha.token")).strip();
    for (Derphole p : new Derphole[] {serve, open, viaProxy}) {
      assertThat(p.stderr()).as("%s never shows the token", p.name).doesNotContain(token);
    }
  }

  /**
   * On a terminal ({@code script} gives each side a pty) send and receive draw a progress bar;
   * with {@code --hide-progress} they print only the summary line. The terminal's transcript is
   * the process's stdout here (the pty merges stdout and stderr).
   */
  @Test
  void hideProgressQuietsSendAndReceive() throws Exception {
    Files.createDirectories(dir.resolve("sender"));
    Files.createDirectories(dir.resolve("receiver"));
    Bytes.randomFile(dir.resolve("sender/photo.jpg"), 4 << 20, 5);
    for (boolean hide : new boolean[] {false, true}) {
      String flag = hide ? " --hide-progress" : "";
      Files.deleteIfExists(dir.resolve("receiver/photo.jpg"));
      Derphole send = onATerminal("send-tty" + hide, dir.resolve("sender"), "derphole send ./photo.jpg" + flag);
      String token = send.awaitStderr(RECEIVE_LINE).group(1);
      Derphole receive = onATerminal("receive-tty" + hide, dir.resolve("receiver"), "derphole receive " + token + flag);
      receive.assertExit(0, TRANSFER);
      send.assertExit(0, TRANSFER);
      assertThat(Bytes.sha256(dir.resolve("receiver/photo.jpg"))).isEqualTo(Bytes.sha256(dir.resolve("sender/photo.jpg")));
      for (Derphole side : new Derphole[] {send, receive}) {
        String terminal = Relay.read(side.stdout);
        assertThat(terminal).as("%s's terminal", side.name).contains("average)");
        if (hide) {
          assertThat(terminal).as("%s's terminal with --hide-progress", side.name).doesNotContain("%|");
        } else {
          assertThat(terminal).as("%s's terminal", side.name).contains("100%|####################|");
        }
      }
    }
  }

  /** {@code line} run by {@code script} on a pseudo-terminal in {@code cwd}; its transcript is both stdout and "stderr". */
  private Derphole onATerminal(String name, Path cwd, String line) {
    Derphole d = Shell.start(processes, dir, cwd, name, relay.mapFile(),
        "script -qec '" + line + "' /dev/null", java.util.Map.of());
    return new Derphole(d.name, d.process, d.stdout, d.stdout);
  }

  @Test
  void version() throws Exception {
    Derphole v = run("version", "derphole version");
    v.assertExit(0, TRANSFER);
    assertThat(Files.readString(v.stdout).strip()).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    assertThat(v.stderr()).isEmpty();
  }
}
