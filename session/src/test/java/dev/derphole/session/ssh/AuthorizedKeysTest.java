package dev.derphole.session.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthorizedKeysTest {
  @TempDir Path home;

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
}
