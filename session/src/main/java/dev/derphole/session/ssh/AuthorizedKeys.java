package dev.derphole.session.ssh;

import dev.derphole.session.SessionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A user's {@code ~/.ssh/authorized_keys}: the key is appended on a line of its own, the directory
 * made {@code 0700} and the file {@code 0600} (sshd's StrictModes refuses looser ones), both owned
 * by the user when an owner is given; a key that is already there (same type and key data) is not
 * added twice.
 */
public final class AuthorizedKeys {
  /** Whether the key was added or was already there. */
  public enum Outcome { ADDED, ALREADY_PRESENT }

  /** A numeric owner for the files, or null to leave the creating process's. */
  public record Owner(int uid, int gid) {}

  private final Path file;
  private final Owner owner;

  public AuthorizedKeys(Path home, Owner owner) {
    this.file = home.resolve(".ssh").resolve("authorized_keys");
    this.owner = owner;
  }

  public Path file() {
    return file;
  }

  public synchronized Outcome add(PublicKeyLine key) throws SessionException, IOException {
    Path dir = file.getParent();
    if (Files.isSymbolicLink(file)) {
      throw new SessionException(file + " is a symbolic link; not writing through it");
    }
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      chown(dir);
    }
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    String existing = "";
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      existing = Files.readString(file, StandardCharsets.UTF_8);
      for (String line : existing.split("\n")) {
        try {
          if (PublicKeyLine.parse(line).sameKey(key)) {
            return Outcome.ALREADY_PRESENT;
          }
        } catch (SessionException notAKey) {
          // comments, options-prefixed lines and blanks are left alone
        }
      }
    } else {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      chown(file);
    }
    String prefix = existing.isEmpty() || existing.endsWith("\n") ? "" : "\n";
    Files.writeString(file, prefix + key.line() + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND,
        LinkOption.NOFOLLOW_LINKS);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return Outcome.ADDED;
  }

  private void chown(Path p) throws IOException {
    if (owner != null) {
      Files.setAttribute(p, "unix:uid", owner.uid(), LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(p, "unix:gid", owner.gid(), LinkOption.NOFOLLOW_LINKS);
    }
  }
}
