package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real OpenSSH {@code sshd} on 127.0.0.1 for end-to-end tests: its own host key, configuration
 * and {@code authorized_keys} file in the test's directory, key authentication only, running in
 * the foreground as the test's user and logging to {@code dir/sshd.log}. A client key pair
 * ({@link #clientKey()}) is generated beside it; {@link #ssh} builds an {@code ssh} command that
 * uses it and trusts no other configuration of the machine.
 *
 * <p>Needs {@code /usr/sbin/sshd} and {@code ssh-keygen} (package {@code openssh-server}, which
 * {@code .ci/run} installs). As root it also needs {@code /run/sshd}, its privilege-separation
 * directory, which {@link #start} creates when it is missing.
 */
final class Sshd {
  static final Path SSHD = Path.of("/usr/sbin/sshd");
  static final Duration START_TIMEOUT = Duration.ofSeconds(20);
  private static final Pattern LISTENING = Pattern.compile("Server listening on 127\\.0\\.0\\.1 port (\\d+)");
  private static final int BIND_ATTEMPTS = 5;

  private final Process process;
  private final Path dir;
  private final Path authorizedKeys;
  private final int port;

  private Sshd(Process process, Path dir, Path authorizedKeys, int port) {
    this.process = process;
    this.dir = dir;
    this.authorizedKeys = authorizedKeys;
    this.port = port;
  }

  /** An sshd whose {@code authorized_keys} is {@code dir/authorized_keys}, holding the client key. */
  static Sshd start(Processes processes, Path dir) throws Exception {
    Files.createDirectories(dir);
    Path keys = dir.resolve("authorized_keys");
    Sshd sshd = start(processes, dir, keys);
    Files.writeString(keys, Files.readString(sshd.clientPublicKey()));
    return sshd;
  }

  /**
   * An sshd that reads the keys a user may log in with from {@code authorizedKeys}, which the test
   * (or the code under test) fills; the file need not exist yet.
   */
  static Sshd start(Processes processes, Path dir, Path authorizedKeys) throws Exception {
    Files.createDirectories(dir);
    keygen(dir.resolve("host_key"));
    keygen(dir.resolve("client_key"));
    if (isRoot()) {
      Files.createDirectories(Path.of("/run/sshd"));
    }
    // sshd cannot report a port it picked itself: take a free one and retry if another process
    // grabbed it between our probe and sshd's bind.
    for (int attempt = 1; ; attempt++) {
      int port = freePort();
      Path config = dir.resolve("sshd_config");
      Files.writeString(config, String.join("\n",
          "ListenAddress 127.0.0.1",
          "Port " + port,
          "HostKey " + dir.resolve("host_key"),
          "PidFile none",
          "AuthorizedKeysFile " + authorizedKeys.toAbsolutePath(),
          "PubkeyAuthentication yes",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "PermitRootLogin prohibit-password",
          "UsePAM no",
          // The test directory sits under /tmp, which is world-writable: sshd's ownership checks
          // on the path to authorized_keys would refuse it.
          "StrictModes no",
          "LogLevel VERBOSE",
          ""));
      Path log = dir.resolve("sshd.log");
      Files.deleteIfExists(log);
      ProcessBuilder pb = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", config.toString())
          .directory(dir.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(dir.resolve("sshd.stdout").toFile())
          .redirectError(log.toFile());
      Process p = processes.start(pb);
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (true) {
        Matcher m = LISTENING.matcher(Relay.read(log));
        if (m.find()) {
          return new Sshd(p, dir, authorizedKeys, Integer.parseInt(m.group(1)));
        }
        if (!p.isAlive()) {
          if (attempt < BIND_ATTEMPTS && Relay.read(log).contains("Address already in use")) {
            break;
          }
          fail("sshd exited with %d; log:%n%s", p.exitValue(), Relay.read(log));
        }
        if (System.nanoTime() > deadline) {
          fail("sshd was not listening within %s; log:%n%s", START_TIMEOUT, Relay.read(log));
        }
        Thread.sleep(20);
      }
    }
  }

  int port() {
    return port;
  }

  Path authorizedKeys() {
    return authorizedKeys;
  }

  /** The client's private key: {@code ssh -i} it. */
  Path clientKey() {
    return dir.resolve("client_key");
  }

  Path clientPublicKey() {
    return dir.resolve("client_key.pub");
  }

  /** The user sshd runs as, and the only one it can log in. */
  static String user() {
    return System.getProperty("user.name");
  }

  /**
   * {@code ssh} to this server as {@link #user()} with the client key, running {@code command};
   * batch mode (never prompts), no known-hosts file, none of the machine's ssh configuration.
   * {@code options} come first, e.g. {@code -o ProxyCommand=...} (then host and port still name
   * this server but only appear in messages) or {@code -p PORT} to go through a forwarder (it
   * overrides ours: the first {@code -p} wins).
   */
  List<String> ssh(List<String> options, String... command) {
    List<String> cmd = new ArrayList<>(List.of("ssh", "-F", "/dev/null"));
    cmd.addAll(options);
    cmd.addAll(clientOptions());
    cmd.addAll(List.of("-p", Integer.toString(port), user() + "@127.0.0.1"));
    cmd.addAll(List.of(command));
    return cmd;
  }

  /** The {@code -o}/{@code -i} options every client command here uses (also for {@code scp}). */
  List<String> clientOptions() {
    return List.of("-i", clientKey().toString(), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
        "-o", "ConnectTimeout=20");
  }

  String log() {
    return Relay.read(dir.resolve("sshd.log"));
  }

  boolean isAlive() {
    return process.isAlive();
  }

  private static void keygen(Path key) throws IOException, InterruptedException {
    if (Files.exists(key)) {
      return;
    }
    Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "derphole-test",
        "-f", key.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      fail("ssh-keygen failed for %s: %s", key, out);
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
