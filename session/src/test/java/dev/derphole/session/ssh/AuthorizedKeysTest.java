package dev.derphole.session.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.derphole.session.SessionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthorizedKeysTest {
  /** The account a root {@code ssh invite --user} writes for: a uid and gid with no passwd entry. */
  static final AuthorizedKeys.Owner BOB = new AuthorizedKeys.Owner(4242, 4343);

  @TempDir Path home;
  /** Root's files an attacker points links at: must come out untouched. */
  @TempDir Path elsewhere;

  @Test
  void createsTheDirectoryAndFileWithStrictModesAndAppendsOnce() throws Exception {
    AuthorizedKeys keys = new AuthorizedKeys(home, null);
    PublicKeyLine k = PublicKeyLine.parse(PublicKeyLineTest.REAL);
    assertThat(keys.add(k)).isEqualTo(AuthorizedKeys.Outcome.ADDED);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve(".ssh")))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.file()))).isEqualTo("rw-------");
    assertThat(keys.file()).hasContent(PublicKeyLineTest.REAL + "\n");
    // The same key with another comment is the same key.
    assertThat(keys.add(PublicKeyLine.parse(PublicKeyLineTest.REAL.replace("alice@laptop", "other"))))
        .isEqualTo(AuthorizedKeys.Outcome.ALREADY_PRESENT);
    assertThat(Files.readAllLines(keys.file())).hasSize(1);
  }

  @Test
  void appendsOnALineOfItsOwnAndKeepsWhatWasThere() throws Exception {
    Files.createDirectories(home.resolve(".ssh"));
    String before = "# my keys\ncommand=\"backup\" ssh-rsa " + PublicKeyLineTest.blob("ssh-rsa") + " backup";
    Files.writeString(home.resolve(".ssh/authorized_keys"), before); // no final newline
    AuthorizedKeys keys = new AuthorizedKeys(home, null);
    assertThat(keys.add(PublicKeyLine.parse(PublicKeyLineTest.REAL))).isEqualTo(AuthorizedKeys.Outcome.ADDED);
    assertThat(keys.file()).hasContent(before + "\n" + PublicKeyLineTest.REAL + "\n");
  }

  @Test
  void theOwnerGetsTheFilesWhenGiven() throws Exception {
    assumeThat(System.getProperty("user.name")).as("chown needs root").isEqualTo("root");
    AuthorizedKeys keys = new AuthorizedKeys(home, new AuthorizedKeys.Owner(4242, 4343));
    keys.add(PublicKeyLine.parse(PublicKeyLineTest.REAL));
    for (Path p : new Path[] {home.resolve(".ssh"), keys.file()}) {
      assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(4242);
      assertThat(Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(4343);
    }
  }

  @Test
  void usersResolveFromPasswdAndTheTestOverride() throws Exception {
    SshUser root = SshUser.resolve("root", Map.of());
    assertThat(root.owner()).isEqualTo(new AuthorizedKeys.Owner(0, 0));
    assertThat(root.home()).isEqualTo(Path.of("/root"));
    assertThat(SshUser.resolve("root", Map.of(SshUser.HOME_ENV, home.toString())).home()).isEqualTo(home);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SshUser.resolve("no-such-user-x9", Map.of()))
        .hasMessage("no such user: no-such-user-x9");
  }

  @Test
  void theOnlyPublicKeyIsChosenAndSeveralOrNoneAreErrors() throws Exception {
    Path ssh = Files.createDirectories(home.resolve(".ssh"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> PublicKeyFile.choose(ssh, null))
        .hasMessageContaining("no public key found");
    Files.writeString(ssh.resolve("id_ed25519.pub"), PublicKeyLineTest.REAL + "\n");
    assertThat(PublicKeyFile.choose(ssh, null)).isEqualTo(ssh.resolve("id_ed25519.pub"));
    Files.writeString(ssh.resolve("id_rsa.pub"), "x");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> PublicKeyFile.choose(ssh, null))
        .hasMessageContaining("several public keys").hasMessageContaining("id_ed25519.pub, id_rsa.pub")
        .hasMessageContaining("--key-file");
    assertThat(PublicKeyFile.read(ssh.resolve("id_ed25519.pub")).keyId()).isEqualTo("alice@laptop");
  }

  // --- ssh invite --user as root: the account owns its home and plants links in it ---------------

  private static void chown(Path p, int uid, int gid) throws IOException {
    Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
  }

  /** Every path under {@code root} (itself as ""), not following links: type, mode, owner and content. */
  static Map<String, String> state(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,nlink", LinkOption.NOFOLLOW_LINKS);
        String what = Files.isSymbolicLink(p) ? "link to " + Files.readSymbolicLink(p)
            : Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir" : "file " + Files.readString(p);
        out.put(root.relativize(p).toString(), String.format("%o %s:%s n%s %s", a.get("mode"), a.get("uid"), a.get("gid"),
            a.get("nlink"), what));
      }
    }
    return out;
  }

  /** Removes everything under {@code dir}, links as links. */
  private static void clear(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        if (!p.equals(dir)) {
          Files.delete(p);
        }
      }
    }
  }

  /** Root's {@code authorized_keys} (0644, "root-key") in a root directory (0755), as a link's target. */
  private Path victimDir() throws IOException {
    Path dir = Files.createDirectories(elsewhere.resolve("root-ssh"));
    Files.writeString(dir.resolve("authorized_keys"), "ssh-ed25519 root-key root@host\n");
    Files.setPosixFilePermissions(dir.resolve("authorized_keys"), PosixFilePermissions.fromString("rw-r--r--"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    return dir;
  }

  /** Bob's real {@code .ssh} (0700, his). */
  private Path bobsSsh() throws IOException {
    Path ssh = Files.createDirectory(home.resolve(".ssh"));
    chown(ssh, BOB.uid(), BOB.gid());
    return ssh;
  }

  /** {@code keys.add} is refused with {@code message}; root's files and the home are as they were. */
  private void assertRefused(AuthorizedKeys keys, String message, Map<String, String> homeBefore) throws Exception {
    Map<String, String> victimBefore = state(elsewhere);
    assertThatThrownBy(() -> keys.add(PublicKeyLine.parse(PublicKeyLineTest.REAL))).isInstanceOf(SessionException.class)
        .hasMessage(message);
    assertThat(state(elsewhere)).as("the link's target").isEqualTo(victimBefore);
    assertThat(state(home)).as("the home (no staging directory left)").isEqualTo(homeBefore);
  }

  /** As {@link #assertRefused} for bob's keys, the home as it is now. */
  private void assertRefusedForBob(String message) throws Exception {
    assertRefused(new AuthorizedKeys(home, BOB), message, state(home));
  }

  private static void assumeRoot() {
    assumeThat(System.getProperty("user.name")).as("chown needs root").isEqualTo("root");
  }

  @Test
  void aDotSshThatIsASymlinkIsRefusedForAnyAccount() throws Exception {
    assumeRoot();
    Path victim = victimDir();
    Files.createSymbolicLink(home.resolve(".ssh"), victim);
    for (AuthorizedKeys.Owner o : new AuthorizedKeys.Owner[] {BOB, null}) {
      assertRefused(new AuthorizedKeys(home, o), home.resolve(".ssh") + " is a symbolic link; refusing to follow it"
          + " (it must be a real directory)", state(home));
    }
  }

  @Test
  void aDotSshOwnedBySomeoneElseIsRefused() throws Exception {
    assumeRoot();
    Path ssh = Files.createDirectory(home.resolve(".ssh"));
    Files.writeString(ssh.resolve("authorized_keys"), "theirs\n");
    chown(ssh.resolve("authorized_keys"), 5555, 5555);
    chown(ssh, 5555, 5555);
    Files.setPosixFilePermissions(ssh, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertRefusedForBob(ssh + " is owned by uid 5555, not by the account (uid 4242); refusing to touch it");
  }

  @Test
  void anAuthorizedKeysThatIsASymlinkOrAHardLinkIsRefused() throws Exception {
    assumeRoot();
    Path victim = victimDir().resolve("authorized_keys");
    Path bobs = victimDir().resolveSibling("bobs-other-file");
    Files.writeString(bobs, "bob's\n");
    chown(bobs, BOB.uid(), BOB.gid());
    Path keys = bobsSsh().resolve("authorized_keys");
    Files.createSymbolicLink(keys, victim);
    assertRefusedForBob(keys + " is a symbolic link; refusing to write through it");
    Files.delete(keys);
    Files.createLink(keys, victim);
    assertRefusedForBob(keys + " is owned by uid 0, not by the account (uid 4242); refusing to touch it");
    Files.delete(keys);
    Files.createLink(keys, bobs); // his own file, but with another name a key must not land under
    assertRefusedForBob(keys + " has 2 hard links; refusing to write to a file with other names");
  }

  @Test
  void anAuthorizedKeysOverTheSizeBoundIsRefused() throws Exception {
    assumeRoot();
    Path keys = bobsSsh().resolve("authorized_keys");
    Files.write(keys, new byte[AuthorizedKeys.MAX_SIZE + 1]);
    chown(keys, BOB.uid(), BOB.gid());
    assertRefusedForBob(keys + " is larger than 16 MiB; refusing to rewrite it");
    Files.write(keys, new byte[AuthorizedKeys.MAX_SIZE]);
    assertThat(new AuthorizedKeys(home, BOB).add(PublicKeyLine.parse(PublicKeyLineTest.REAL))).isEqualTo(AuthorizedKeys.Outcome.ADDED);
  }

  /** A swap the account makes between the checks and the write (the test hook stands in for the race). */
  interface Swap {
    void run(Path ssh, Path victimDir) throws IOException;
  }

  @Test
  @SuppressWarnings("unchecked")
  void aLinkSwappedInAfterTheChecksIsRefusedAndItsTargetUntouched() throws Exception {
    assumeRoot();
    Map<String, Swap> swaps = Map.of(
        "authorized_keys is a symbolic link; refusing to write through it", (ssh, v) -> {
          Files.delete(ssh.resolve("authorized_keys"));
          Files.createSymbolicLink(ssh.resolve("authorized_keys"), v.resolve("authorized_keys"));
        },
        "authorized_keys has 2 hard links; refusing to write to a file with other names", (ssh, v) -> {
          Files.delete(ssh.resolve("authorized_keys"));
          Files.createLink(ssh.resolve("authorized_keys"), v.resolve("bobs"));
        },
        ".ssh is a symbolic link; refusing to follow it (it must be a real directory)", (ssh, v) -> {
          Files.move(ssh, ssh.resolveSibling(".ssh-real"));
          Files.createSymbolicLink(ssh, v);
        });
    for (Map.Entry<String, Swap> swap : swaps.entrySet()) {
      Path victim = victimDir();
      Files.writeString(victim.resolve("bobs"), "bob's\n");
      chown(victim.resolve("bobs"), BOB.uid(), BOB.gid());
      Path ssh = bobsSsh();
      Files.writeString(ssh.resolve("authorized_keys"), "");
      chown(ssh.resolve("authorized_keys"), BOB.uid(), BOB.gid());
      AuthorizedKeys keys = new AuthorizedKeys(home, BOB);
      Map<String, String>[] afterSwap = new Map[2];
      keys.afterChecks = () -> {
        try {
          swap.getValue().run(ssh, victim);
          afterSwap[0] = state(home);
          afterSwap[1] = state(elsewhere);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
      assertThatThrownBy(() -> keys.add(PublicKeyLine.parse(PublicKeyLineTest.REAL))).as(swap.getKey())
          .isInstanceOf(SessionException.class).hasMessageEndingWith("/" + swap.getKey());
      assertThat(state(elsewhere)).as(swap.getKey() + ": the link's target").isEqualTo(afterSwap[1]);
      assertThat(state(home)).as(swap.getKey() + ": bob's files as he left them").isEqualTo(afterSwap[0]);
      for (Path p : List.of(home, elsewhere)) {
        clear(p);
      }
    }
  }

  @Test
  void aKeyForTheAccountReplacesItsFileInOneStepAndLeavesNothingBehind() throws Exception {
    assumeRoot();
    Path keys = bobsSsh().resolve("authorized_keys");
    Files.writeString(keys, "# bob's\n");
    chown(keys, BOB.uid(), BOB.gid());
    Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-rw-rw-"));
    assertThat(new AuthorizedKeys(home, BOB).add(PublicKeyLine.parse(PublicKeyLineTest.REAL))).isEqualTo(AuthorizedKeys.Outcome.ADDED);
    assertThat(keys).hasContent("# bob's\n" + PublicKeyLineTest.REAL + "\n");
    assertThat(state(home)).containsOnlyKeys("", ".ssh", ".ssh/authorized_keys")
        .containsEntry(".ssh", "40700 4242:4343 n2 dir")
        .hasEntrySatisfying(".ssh/authorized_keys", v -> assertThat(v).startsWith("100600 4242:4343 n1 file "));
  }
}
