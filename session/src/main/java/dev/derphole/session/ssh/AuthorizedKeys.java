package dev.derphole.session.ssh;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.SessionException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

/**
 * A user's {@code ~/.ssh/authorized_keys}: the key is added on a line of its own, the directory
 * made {@code 0700} and the file {@code 0600} (sshd's StrictModes refuses looser ones), both owned
 * by the user when an owner is given; a key that is already there (same type and key data) is not
 * added twice.
 *
 * <p>Written for root adding a key to another account ({@code ssh invite --user bob}): bob owns
 * his home and may race us in it, so no step may go through a link he planted.
 * <ul>
 *   <li>The home directory is opened as a handle (its last component not followed), {@code .ssh}
 *       from that handle without following links, and every later step is relative to those handles
 *       ({@link SecureDirectoryStream}: openat, renameat, fchmod, fchown).
 *   <li>{@code .ssh} must be a real directory owned by the account (or one this call made);
 *       {@code authorized_keys} a regular file owned by the account, with no other name (one link),
 *       at most {@value #MAX_SIZE} bytes. Anything else is refused in one line naming what is wrong,
 *       before anything is changed.
 *   <li>The new file is built in a private staging directory beside {@code .ssh}
 *       ({@code ~/.derphole-ssh-XXXXXXXX}: ours, {@code 0700}, so the account cannot reach into it):
 *       the old file is first moved in there (so the file checked is the file read), the new content
 *       written to a fresh file, given its mode and owner there, then renamed over
 *       {@code authorized_keys} in one step. A check that fails there moves the old file back.
 * </ul>
 * Where the JDK offers no {@link SecureDirectoryStream} (it does on Linux), a key for another
 * account is refused; one for the running account is added by path, as nothing is at stake there
 * that the user could not do themselves.
 */
public final class AuthorizedKeys {
  /** Whether the key was added or was already there. */
  public enum Outcome { ADDED, ALREADY_PRESENT }

  /** A numeric owner for the files, or null to leave the creating process's. */
  public record Owner(int uid, int gid) {}

  /** The largest {@code authorized_keys} read: it is held in memory while the new one is written. */
  static final int MAX_SIZE = 16 << 20;
  private static final String SSH = ".ssh";
  private static final String KEYS = "authorized_keys";
  private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

  private final Path home;
  private final Path file;
  private final Owner owner;
  /** Test hook: runs once everything is checked and before anything changes (a test swaps a link in here). */
  Runnable afterChecks = () -> { };

  public AuthorizedKeys(Path home, Owner owner) {
    this.home = home;
    this.file = home.resolve(SSH).resolve(KEYS);
    this.owner = owner;
  }

  public Path file() {
    return file;
  }

  public synchronized Outcome add(PublicKeyLine key) throws SessionException, IOException {
    Path real;
    try {
      real = home.toRealPath(); // the configured home: links above it are the administrator's
    } catch (NoSuchFileException e) {
      throw new SessionException("the home directory " + home + " does not exist");
    }
    SecureDirectoryStream<Path> homeDir = openHome(real);
    if (homeDir == null) {
      if (owner != null) {
        throw new SessionException("ssh invite --user needs secure directory handles (openat), which Java does not offer"
            + " on this system; run ssh invite as that user instead");
      }
      return addByPath(key);
    }
    try (homeDir) {
      check(homeDir, real);
      afterChecks.run();
      return write(homeDir, real, key);
    }
  }

  /** The checks, with nothing changed: a failure names what is wrong. */
  private void check(SecureDirectoryStream<Path> homeDir, Path real) throws SessionException, IOException {
    Path sshPath = real.resolve(SSH);
    Inode ssh = Inode.of(homeDir, real, SSH);
    if (ssh == null) {
      return;
    }
    checkDirectory(ssh, sshPath);
    try (SecureDirectoryStream<Path> sshDir = openDirectory(homeDir, real, SSH)) {
      checkDirectory(Inode.of(sshDir, sshPath, null), sshPath);
      Inode keys = Inode.of(sshDir, sshPath, KEYS);
      if (keys != null) {
        checkKeys(keys);
      }
    }
  }

  private Outcome write(SecureDirectoryStream<Path> homeDir, Path real, PublicKeyLine key) throws SessionException, IOException {
    Path sshPath = real.resolve(SSH);
    try (Staging staging = Staging.create(homeDir, real)) {
      boolean created = false;
      if (Inode.of(homeDir, real, SSH) == null) {
        try {
          Files.createDirectory(sshPath, PosixFilePermissions.asFileAttribute(DIR_MODE)); // mkdir never follows a link
          created = true;
        } catch (FileAlreadyExistsException raced) {
          // made meanwhile: checked below like any other
        }
      }
      try (SecureDirectoryStream<Path> sshDir = openDirectory(homeDir, real, SSH)) {
        Inode dir = Inode.of(sshDir, sshPath, null);
        if (owner != null && dir.uid() != owner.uid() && created && dir.uid() == staging.uid && isEmpty(sshDir)) {
          chown(sshDir.getFileAttributeView(PosixFileAttributeView.class));
          dir = Inode.of(sshDir, sshPath, null);
          checkChowned(dir, sshPath);
        }
        checkDirectory(dir, sshPath);
        Outcome outcome = replaceKeys(sshDir, staging, key);
        sshDir.getFileAttributeView(PosixFileAttributeView.class).setPermissions(DIR_MODE); // fchmod
        return outcome;
      }
    }
  }

  /** Moves the old file into the staging directory, checks and reads it there, and renames the new one in. */
  private Outcome replaceKeys(SecureDirectoryStream<Path> sshDir, Staging staging, PublicKeyLine key)
      throws SessionException, IOException {
    boolean pinned = false;
    try {
      String existing = "";
      if (Inode.of(sshDir, file.getParent(), KEYS) != null) {
        sshDir.move(Path.of(KEYS), staging.dir, Path.of(Staging.OLD));
        pinned = true;
        checkKeys(Inode.of(staging.dir, staging.path, Staging.OLD));
        existing = staging.read(Staging.OLD);
        for (String line : existing.split("\n")) {
          try {
            if (PublicKeyLine.parse(line).sameKey(key)) {
              return Outcome.ALREADY_PRESENT; // the finally moves the old file back, unchanged
            }
          } catch (SessionException notAKey) {
            // comments, options-prefixed lines and blanks are left alone
          }
        }
      }
      String prefix = existing.isEmpty() || existing.endsWith("\n") ? "" : "\n";
      staging.write(Staging.NEW, existing + prefix + key.line() + "\n");
      PosixFileAttributeView view = staging.dir.getFileAttributeView(Path.of(Staging.NEW), PosixFileAttributeView.class,
          LinkOption.NOFOLLOW_LINKS);
      view.setPermissions(FILE_MODE);
      if (owner != null) {
        chown(view);
        checkChowned(Inode.of(staging.dir, staging.path, Staging.NEW), file);
      }
      staging.dir.move(Path.of(Staging.NEW), sshDir, Path.of(KEYS));
      if (pinned) {
        pinned = false;
        staging.dir.deleteFile(Path.of(Staging.OLD));
      }
      return Outcome.ADDED;
    } finally {
      if (pinned) {
        staging.dir.move(Path.of(Staging.OLD), sshDir, Path.of(KEYS));
      }
    }
  }

  private void checkDirectory(Inode i, Path p) throws SessionException {
    if (i.symlink()) {
      throw new SessionException(p + " is a symbolic link; refusing to follow it (it must be a real directory)");
    }
    if (!i.directory()) {
      throw new SessionException(p + " is not a directory");
    }
    checkOwner(i, p);
  }

  private void checkKeys(Inode i) throws SessionException {
    if (i.symlink()) {
      throw new SessionException(file + " is a symbolic link; refusing to write through it");
    }
    if (!i.regular()) {
      throw new SessionException(file + " is not a regular file");
    }
    checkOwner(i, file);
    if (i.links() != 1) {
      throw new SessionException(file + " has " + i.links() + " hard links; refusing to write to a file with other names");
    }
    if (i.size() > MAX_SIZE) {
      throw new SessionException(file + " is larger than " + (MAX_SIZE >> 20) + " MiB; refusing to rewrite it");
    }
  }

  private void checkOwner(Inode i, Path p) throws SessionException {
    if (owner != null && i.uid() != owner.uid()) {
      throw new SessionException(p + " is owned by uid " + i.uid() + ", not by the account (uid " + owner.uid()
          + "); refusing to touch it");
    }
  }

  private void checkChowned(Inode i, Path p) throws SessionException {
    if (i.uid() != owner.uid() || i.gid() != owner.gid()) {
      throw new SessionException("could not give " + p + " to uid " + owner.uid() + " and gid " + owner.gid());
    }
  }

  /** fchown through a handle; the principals are looked up by number (a name that is all digits would fail {@link #checkChowned}). */
  private void chown(PosixFileAttributeView view) throws IOException {
    UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
    view.setOwner(users.lookupPrincipalByName(Integer.toString(owner.uid())));
    view.setGroup(users.lookupPrincipalByGroupName(Integer.toString(owner.gid())));
  }

  private static boolean isEmpty(SecureDirectoryStream<Path> dir) {
    return !dir.iterator().hasNext();
  }

  /** The home directory as a handle (its last component not followed), or null where the JDK has no secure handles. */
  private static SecureDirectoryStream<Path> openHome(Path real) throws SessionException, IOException {
    Path parent = real.getParent();
    DirectoryStream<Path> up = Files.newDirectoryStream(parent == null ? real : parent);
    if (!(up instanceof SecureDirectoryStream<Path> secure)) {
      up.close();
      return null;
    }
    if (parent == null) {
      return secure;
    }
    try (secure) {
      return openDirectory(secure, parent, real.getFileName().toString());
    }
  }

  /** {@code name} in {@code dir}, opened without following a link; a link or a non-directory is refused by name. */
  static SecureDirectoryStream<Path> openDirectory(SecureDirectoryStream<Path> dir, Path dirPath, String name)
      throws SessionException, IOException {
    try {
      return dir.newDirectoryStream(Path.of(name), LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      Path p = dirPath.resolve(name);
      Inode i = Inode.of(dir, dirPath, name);
      if (i != null && i.symlink()) {
        throw new SessionException(p + " is a symbolic link; refusing to follow it (it must be a real directory)");
      }
      if (i != null && !i.directory()) {
        throw new SessionException(p + " is not a directory");
      }
      throw new SessionException("cannot open " + p + ": " + Failures.describe(e), e);
    }
  }

  /** Without secure handles, for the running account only: by path, refusing links. */
  private Outcome addByPath(PublicKeyLine key) throws SessionException, IOException {
    Path dir = file.getParent();
    if (Files.isSymbolicLink(dir)) {
      throw new SessionException(dir + " is a symbolic link; refusing to follow it (it must be a real directory)");
    }
    if (Files.isSymbolicLink(file)) {
      throw new SessionException(file + " is a symbolic link; refusing to write through it");
    }
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
    }
    Files.setPosixFilePermissions(dir, DIR_MODE);
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
    }
    String prefix = existing.isEmpty() || existing.endsWith("\n") ? "" : "\n";
    Files.writeString(file, prefix + key.line() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
    Files.setPosixFilePermissions(file, FILE_MODE);
    return Outcome.ADDED;
  }

  /**
   * What a name in a directory handle is (fstatat, not following links), with the numbers only the
   * {@code unix} view gives (owner, link count), read by path and trusted only if the path reaches
   * the same file (device and inode).
   */
  record Inode(boolean symlink, boolean directory, boolean regular, long size, int uid, int gid, int links) {
    /** {@code name} in {@code dir} (the directory itself when null), or null if there is none. */
    static Inode of(SecureDirectoryStream<Path> dir, Path dirPath, String name) throws SessionException, IOException {
      BasicFileAttributes a;
      try {
        a = (name == null ? dir.getFileAttributeView(BasicFileAttributeView.class)
            : dir.getFileAttributeView(Path.of(name), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)).readAttributes();
      } catch (NoSuchFileException e) {
        return null;
      }
      Path p = name == null ? dirPath : dirPath.resolve(name);
      Map<String, Object> unix;
      try {
        unix = Files.readAttributes(p, "unix:uid,gid,nlink,fileKey", LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        unix = Map.of();
      }
      if (a.fileKey() == null || !a.fileKey().equals(unix.get("fileKey"))) {
        throw new SessionException(p + " changed while being checked; refusing to touch it");
      }
      return new Inode(a.isSymbolicLink(), a.isDirectory(), a.isRegularFile(), a.size(), (Integer) unix.get("uid"),
          (Integer) unix.get("gid"), (Integer) unix.get("nlink"));
    }
  }

  /**
   * {@code ~/.derphole-ssh-XXXXXXXX}: made by us, {@code 0700}, so nothing in it can be swapped by
   * the account; checked to be ours (its owner is that of a file we create in it) before use.
   */
  private static final class Staging implements AutoCloseable {
    static final String OLD = "authorized_keys.old";
    static final String NEW = "authorized_keys.new";

    final SecureDirectoryStream<Path> home;
    final String name;
    final Path path;
    final SecureDirectoryStream<Path> dir;
    final int uid;

    private Staging(SecureDirectoryStream<Path> home, String name, Path path, SecureDirectoryStream<Path> dir, int uid) {
      this.home = home;
      this.name = name;
      this.path = path;
      this.dir = dir;
      this.uid = uid;
    }

    static Staging create(SecureDirectoryStream<Path> home, Path real) throws SessionException, IOException {
      byte[] random = new byte[4];
      new SecureRandom().nextBytes(random);
      String name = ".derphole-ssh-" + HexFormat.of().formatHex(random);
      Path path = real.resolve(name);
      try {
        Files.createDirectory(path, PosixFilePermissions.asFileAttribute(DIR_MODE));
      } catch (IOException e) {
        throw new SessionException("cannot write in " + real + ": " + Failures.describe(e), e);
      }
      SecureDirectoryStream<Path> dir;
      try {
        dir = openDirectory(home, real, name);
      } catch (SessionException | IOException e) {
        try {
          home.deleteDirectory(Path.of(name)); // unlinkat: removes an empty directory, never follows a link
        } catch (IOException notOurs) {
          e.addSuppressed(notOurs);
        }
        throw e;
      }
      Staging s = null;
      try {
        dir.newByteChannel(Path.of(NEW), Set.<OpenOption>of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(FILE_MODE)).close();
        Inode mine = Inode.of(dir, path, NEW);
        Inode d = Inode.of(dir, path, null);
        s = new Staging(home, name, path, dir, mine.uid());
        if (d.uid() != mine.uid() || !d.directory()) {
          throw new SessionException(path + " was replaced while in use; refusing to go on");
        }
        PosixFileAttributeView view = dir.getFileAttributeView(PosixFileAttributeView.class);
        view.setPermissions(DIR_MODE); // whatever the umask made of it
        return s;
      } catch (SessionException | IOException | RuntimeException e) {
        if (s != null) {
          s.close();
        } else {
          dir.close();
        }
        throw e;
      }
    }

    String read(String file) throws IOException {
      try (SeekableByteChannel ch = dir.newByteChannel(Path.of(file), Set.<OpenOption>of(StandardOpenOption.READ,
          LinkOption.NOFOLLOW_LINKS))) {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(ch.size(), MAX_SIZE));
        while (buf.hasRemaining() && ch.read(buf) >= 0) {
          // fill
        }
        return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
      }
    }

    void write(String file, String content) throws IOException {
      try (SeekableByteChannel ch = dir.newByteChannel(Path.of(file), Set.<OpenOption>of(StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.DSYNC, LinkOption.NOFOLLOW_LINKS))) {
        ByteBuffer buf = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      }
    }

    /** Removes what is ours: the new file if still here, then the directory if it is still ours. */
    @Override
    public void close() throws IOException {
      try (dir) {
        try {
          dir.deleteFile(Path.of(NEW));
        } catch (NoSuchFileException gone) {
          // renamed into place
        }
        BasicFileAttributes here;
        try {
          here = home.getFileAttributeView(Path.of(name), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
              .readAttributes();
        } catch (NoSuchFileException gone) {
          return; // moved away by the account: an empty directory of ours is left where they put it
        }
        BasicFileAttributes ours = dir.getFileAttributeView(BasicFileAttributeView.class).readAttributes();
        if (ours.fileKey() != null && ours.fileKey().equals(here.fileKey())) {
          home.deleteDirectory(Path.of(name));
        }
      }
    }
  }
}
