package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.OfferSender;
import dev.derphole.session.stream.StreamPort;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.quic.QuicStreamType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code derphole ssh invite} on the "host" and {@code ssh accept} on the "laptop", then a real
 * {@code ssh} into a real {@code sshd} with the key that was handed over. The host's home is a test
 * directory ({@code DERPHOLE_SSH_HOME}), which the sshd reads its authorized keys from.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SshInviteIT extends RelayedIT {
  static final Duration DONE = Duration.ofSeconds(60);
  static final Pattern ACCEPT_LINE = Pattern.compile("(?m)^On the other machine, run:\\R^derphole ssh accept (\\S+)\\R");

  private Derphole invite(Path home, String... args) {
    List<String> all = new java.util.ArrayList<>(List.of("ssh", "invite"));
    all.addAll(List.of(args));
    ProcessBuilder pb = Derphole.builder(dir, "invite", relay.mapFile(), all.toArray(String[]::new));
    pb.environment().put("DERPHOLE_SSH_HOME", home.toString());
    pb.redirectOutput(dir.resolve("invite.stdout").toFile()).redirectInput(Path.of("/dev/null").toFile());
    return new Derphole("invite", processes.start(pb), dir.resolve("invite.stdout"), dir.resolve("invite.stderr"));
  }

  private Derphole accept(String token, String... args) {
    List<String> all = new java.util.ArrayList<>(List.of("ssh", "accept", token));
    all.addAll(List.of(args));
    return Derphole.start(processes, dir, "accept", relay.mapFile(), Path.of("/dev/null"), all.toArray(String[]::new));
  }

  private int ssh(Sshd sshd, String... command) throws Exception {
    Process p = processes.start(new ProcessBuilder(sshd.ssh(List.of(), command))
        .redirectOutput(dir.resolve("ssh.stdout").toFile()).redirectError(dir.resolve("ssh.stderr").toFile()));
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }

  @Test
  void anAcceptedKeyLogsInThroughARealSshd() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    Sshd sshd = Sshd.start(processes, dir.resolve("sshd"), home.resolve(".ssh/authorized_keys"));
    assertThat(ssh(sshd, "true")).as("before the invite the key is not authorized").isEqualTo(255);

    Derphole invite = invite(home);
    String token = invite.awaitStderr(ACCEPT_LINE).group(1);
    Derphole accept = accept(token, "--key-file", sshd.clientPublicKey().toString(), "--yes");
    accept.assertExit(0, DONE);
    invite.assertExit(0, DONE);

    String key = Files.readString(sshd.clientPublicKey()).strip();
    Path keys = home.resolve(".ssh/authorized_keys");
    assertThat(keys).hasContent(key + "\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve(".ssh")))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys))).isEqualTo("rw-------");
    assertThat(invite.lastStderrLine()).hasValueSatisfying(l -> assertThat(l)
        .startsWith("Added ssh-ed25519 key \"derphole-test\" (SHA256:").endsWith(") to " + keys));
    assertThat(accept.stderr()).contains("Public key sent. The host says: Added ssh-ed25519 key \"derphole-test\"");
    assertThat(invite.stdout).isEmptyFile();
    assertThat(accept.stdout).isEmptyFile();

    assertThat(ssh(sshd, "echo", "in-as-$(id -un)")).as("ssh stderr: %s%nsshd: %s",
        Relay.read(dir.resolve("ssh.stderr")), sshd.log()).isZero();
    assertThat(Relay.read(dir.resolve("ssh.stdout")).strip()).isEqualTo("in-as-" + Sshd.user());
  }

  /**
   * A hostile {@code ssh accept} in the test JVM (a real claim, real QUIC) offers {@code line} as
   * its key; returns the failure the host answered with.
   */
  private Exception rawAccept(String token, String line) throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    try {
      Token t = Token.decodeFor(token, Capability.SSH, Instant.now());
      try (ClaimedSession s = ClaimedSession.claim(t, RawSender.options(relay, group), null)) {
        StreamPort port = new StreamPort();
        s.connection().createStream(QuicStreamType.BIDIRECTIONAL, port).get(30, TimeUnit.SECONDS);
        byte[] body = line.getBytes(StandardCharsets.UTF_8);
        OfferHeader header = new OfferHeader(OfferKind.SSH_KEY, "x", body.length, 0, body.length, t.verificationCode());
        try {
          OfferSender.send(header, out -> out.write(body), port.in(), port.out(), n -> { });
        } catch (Exception e) {
          return e;
        }
        throw new AssertionError("the host accepted " + line);
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void theHostTakesNothingButOneWellFormedPublicKeyLine() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    String key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHrL6s4WdeBI3lnoqF9P9Eg9EehTc7vO0tUc2xEihZAP alice@laptop";
    String[][] cases = {
        {"command=\"rm -rf ~\" " + key, "options in front of the key are not accepted"},
        {key + "\n" + key, "it is more than one line"},
        {"ssh-ed25519 bm90IGEga2V5", "the key data is malformed"},
    };
    for (String[] c : cases) {
      Derphole invite = invite(home);
      Exception e = rawAccept(invite.awaitStderr(ACCEPT_LINE).group(1), c[0]);
      assertThat(e).hasMessageStartingWith("the receiver failed: not an OpenSSH public key line: ")
          .hasMessageContaining(c[1]);
      invite.assertExit(1, DONE);
      assertThat(invite.lastStderrLine()).hasValueSatisfying(l -> assertThat(l)
          .startsWith("derphole: not an OpenSSH public key line: ").contains(c[1]));
      assertThat(home.resolve(".ssh")).doesNotExist();
      processes.close();
    }
  }

  @Test
  void theSameKeyTwiceIsAddedOnce() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    Path pub = dir.resolve("id.pub");
    Files.writeString(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHrL6s4WdeBI3lnoqF9P9Eg9EehTc7vO0tUc2xEihZAP alice@laptop\n");
    for (int round = 0; round < 2; round++) {
      Derphole invite = invite(home);
      Derphole accept = accept(invite.awaitStderr(ACCEPT_LINE).group(1), "-F", pub.toString(), "-y");
      accept.assertExit(0, DONE);
      invite.assertExit(0, DONE);
      if (round == 1) {
        assertThat(invite.lastStderrLine()).hasValueSatisfying(l -> assertThat(l).contains("is already in"));
      }
      processes.close();
    }
    assertThat(Files.readAllLines(home.resolve(".ssh/authorized_keys"))).hasSize(1);
  }

  @Test
  void inviteForAnotherUserMakesThemTheOwner() throws Exception {
    Path home = Files.createDirectories(dir.resolve("nobody-home"));
    Invitation i = inviteForNobody(home, "alice@laptop");
    i.accept().assertExit(0, DONE);
    i.invite().assertExit(0, DONE);
    Object nobody = new ProcessBuilder("id", "-u", "nobody").start().inputReader().readLine().strip();
    for (Path p : new Path[] {home.resolve(".ssh"), home.resolve(".ssh/authorized_keys")}) {
      assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS).toString()).isEqualTo(nobody);
    }
  }

  private record Invitation(Derphole invite, Derphole accept) {}

  /** Root invites for {@code nobody} into {@code home}; a key with {@code comment} accepts it. */
  private Invitation inviteForNobody(Path home, String comment) throws Exception {
    Derphole invite = invite(home, "--user", "nobody");
    Path pub = dir.resolve("id.pub");
    Files.writeString(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHrL6s4WdeBI3lnoqF9P9Eg9EehTc7vO0tUc2xEihZAP " + comment + "\n");
    return new Invitation(invite, accept(invite.awaitStderr(ACCEPT_LINE).group(1), "--key-file", pub.toString(), "--yes"));
  }

  /**
   * Root invites for {@code nobody}, whose {@code ~/.ssh} is a link to root's: refused in one line,
   * root's directory and file untouched, the invitee told why.
   */
  @Test
  void inviteForAnotherUserRefusesASymlinkedDotSshAndLeavesItsTargetAlone() throws Exception {
    Path home = Files.createDirectories(dir.resolve("nobody-home"));
    Path rootSsh = Files.createDirectories(dir.resolve("root-ssh"));
    Files.writeString(rootSsh.resolve("authorized_keys"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHrL6s4WdeBI3lnoqF9P9Eg9EehTc7vO0tUc2xEihZAP root@host\n");
    Files.setPosixFilePermissions(rootSsh.resolve("authorized_keys"), PosixFilePermissions.fromString("rw-r--r--"));
    Files.setPosixFilePermissions(rootSsh, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(home.resolve(".ssh"), rootSsh);
    String before = Files.readAttributes(rootSsh, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS) + " "
        + Files.readAttributes(rootSsh.resolve("authorized_keys"), "unix:mode,uid,gid,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
    String rootKeys = Files.readString(rootSsh.resolve("authorized_keys"));

    Invitation i = inviteForNobody(home, "mallory@laptop");
    Derphole invite = i.invite();
    Derphole accept = i.accept();
    accept.assertExit(1, DONE);
    invite.assertExit(1, DONE);
    String why = home.resolve(".ssh") + " is a symbolic link; refusing to follow it (it must be a real directory)";
    assertThat(invite.stderr()).doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(invite.lastStderrLine()).hasValue("derphole: " + why);
    assertThat(accept.lastStderrLine()).hasValueSatisfying(l -> assertThat(l).contains(why));
    assertThat(rootSsh.resolve("authorized_keys")).hasContent(rootKeys);
    assertThat(Files.readAttributes(rootSsh, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS) + " "
        + Files.readAttributes(rootSsh.resolve("authorized_keys"), "unix:mode,uid,gid,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(before);
    assertThat(Offers.names(home)).containsExactly(".ssh");
  }

  /** {@code ssh accept} on a terminal ({@code script} gives it a pty), typing {@code answer}; returns what the terminal showed. */
  private String acceptOnATerminal(String token, Path pub, String answer, int expectedExit) throws Exception {
    Path typed = Files.writeString(dir.resolve("typed-" + answer), answer + "\n");
    String cmd = String.join(" ", "'" + Processes.bin("derphole") + "'", "ssh", "accept", token, "--key-file", "'" + pub + "'");
    ProcessBuilder pb = new ProcessBuilder("script", "-qec", cmd, "/dev/null").directory(dir.toFile())
        .redirectInput(typed.toFile()).redirectOutput(dir.resolve("tty-" + answer).toFile())
        .redirectError(dir.resolve("tty-" + answer + ".stderr").toFile());
    Derphole.cleanEnvironment(pb);
    pb.environment().put("DERPHOLE_DERP_MAP", relay.mapFile().toString());
    Process p = processes.start(pb);
    assertThat(p.waitFor(DONE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String shown = Relay.read(dir.resolve("tty-" + answer));
    assertThat(p.exitValue()).as("terminal:%n%s", shown).isEqualTo(expectedExit);
    return shown;
  }

  @Test
  void onATerminalAcceptAsksAndNoMeansNothingIsSent() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    Path pub = dir.resolve("id.pub");
    Files.writeString(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHrL6s4WdeBI3lnoqF9P9Eg9EehTc7vO0tUc2xEihZAP alice@laptop\n");
    Derphole invite = invite(home);
    String token = invite.awaitStderr(ACCEPT_LINE).group(1);
    assertThat(acceptOnATerminal(token, pub, "n", 1)).contains("Really send this public key? [y/N] ")
        .contains("derphole: aborted; nothing was sent");
    assertThat(invite.process.isAlive()).as("the token was not used").isTrue();
    assertThat(acceptOnATerminal(token, pub, "y", 0)).contains("Public key sent.");
    invite.assertExit(0, DONE);
    assertThat(Files.readAllLines(home.resolve(".ssh/authorized_keys"))).hasSize(1);
  }

  @Test
  void acceptWithoutATerminalAndWithoutYesRefusesInsteadOfHanging() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    Derphole invite = invite(home);
    Path pub = dir.resolve("id.pub");
    Files.writeString(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHrL6s4WdeBI3lnoqF9P9Eg9EehTc7vO0tUc2xEihZAP alice@laptop\n");
    Derphole accept = accept(invite.awaitStderr(ACCEPT_LINE).group(1), "--key-file", pub.toString());
    accept.assertExit(2, DONE);
    assertThat(accept.lastStderrLine()).hasValue(
        "derphole: cannot ask before sending the key: no terminal; pass --yes to send it without asking");
    assertThat(invite.process.isAlive()).as("nothing reached the host").isTrue();
    assertThat(home.resolve(".ssh")).doesNotExist();
  }

  @Test
  void acceptFindsTheOnlyPublicKeyAndRefusesNoneOrSeveral() throws Exception {
    Path fakeHome = Files.createDirectories(dir.resolve("laptop-home"));
    // A real, unclaimed token, so that the only failure is the key.
    Derphole invite = invite(Files.createDirectories(dir.resolve("home")));
    String t = invite.awaitStderr(ACCEPT_LINE).group(1);
    for (String[] c : new String[][] {{"none", "no public key found in " + fakeHome.resolve(".ssh")},
        {"two", "several public keys in " + fakeHome.resolve(".ssh") + " (a.pub, b.pub); pass --key-file to choose one"}}) {
      if (c[0].equals("two")) {
        Files.createDirectories(fakeHome.resolve(".ssh"));
        Files.writeString(fakeHome.resolve(".ssh/a.pub"), "x");
        Files.writeString(fakeHome.resolve(".ssh/b.pub"), "y");
      }
      ProcessBuilder pb = Derphole.builder(dir, "accept-" + c[0], relay.mapFile(), "ssh", "accept", t, "--yes");
      pb.environment().put("DERPHOLE_JAVA_OPTS", "-Duser.home=" + fakeHome);
      pb.redirectOutput(dir.resolve("accept.stdout").toFile()).redirectInput(Path.of("/dev/null").toFile());
      Derphole accept = new Derphole("accept-" + c[0], processes.start(pb), dir.resolve("accept.stdout"),
          dir.resolve("accept-" + c[0] + ".stderr"));
      accept.assertExit(1, DONE);
      assertThat(accept.assertOneLineError()).contains(c[1]);
    }
    assertThat(invite.process.isAlive()).isTrue();
  }
}
