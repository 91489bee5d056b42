package dev.derphole.cli;

import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The attributes that keep a new secret file (a derptun token, derper's key) to its owner: mode
 * 0600 where the file system has POSIX permissions. Where it has none (Windows) there is nothing
 * to ask for: the file inherits its directory's access list, which in the user's own folders
 * grants the user alone (and administrators).
 */
final class OwnerOnly {
  private OwnerOnly() {}

  /** For a new file in {@code dir}'s file system. */
  static FileAttribute<?>[] file(Path dir) {
    if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return new FileAttribute<?>[0];
    }
    return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))};
  }
}
