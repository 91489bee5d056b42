package dev.derphole.session.offer;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.SessionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Where a received file or directory goes: first under a hidden temporary name beside the target
 * ({@code .NAME.derphole-XXXXXXXX.part}), then, once complete and verified, renamed to the target
 * in one step. Until {@link #commit} the target is never touched, so an interrupted or failed
 * transfer leaves nothing under the final name; {@link #discard} (also on close) removes the
 * temporary.
 *
 * <p>An existing target is refused unless {@code force}: checked when the offer arrives (so
 * nothing is sent in vain) and again at the rename. A file is put in place with a hard link,
 * which fails if the name was taken meanwhile; with {@code force} it replaces the old file with
 * one rename; a directory replaces the old one by moving it aside, renaming the new one in, and
 * deleting the old one.
 *
 * <p>A file's temporary is created with {@code O_CREAT|O_EXCL} and written only through the
 * channel that made it, never reopened by name: in a directory others can write to, the name could
 * meanwhile be a link. Before the rename the name must still be that file (same device and inode,
 * a regular file, every byte written); if not, nothing is kept.
 */
public final class Landing implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private final boolean directory;
  private final boolean force;
  /** A file's temporary, open since its exclusive creation; null for a directory. */
  private final FileChannel channel;
  /** The temporary's identity (device and inode) when made, where the file system has one. */
  private final Object fileKey;
  private boolean committed;
  private boolean discarded;

  private Landing(Path target, Path temp, boolean directory, boolean force, FileChannel channel, Object fileKey) {
    this.target = target;
    this.temp = temp;
    this.directory = directory;
    this.force = force;
    this.channel = channel;
    this.fileKey = fileKey;
  }

  /**
   * The target for {@code name}: {@code cwd/name} without {@code -o}; {@code output/name} when
   * {@code output} is a directory; else {@code output} itself (its directory must exist).
   */
  public static Path target(Path cwd, String output, String name) throws SessionException {
    String problem = LocalNames.problem(name, cwd.getFileSystem());
    if (problem != null) {
      throw new SessionException("the sender proposed the name " + OfferHeader.quote(name) + ": it " + problem + "; refusing it");
    }
    if (output == null) {
      return cwd.resolve(name).toAbsolutePath().normalize();
    }
    Path o = cwd.resolve(output).toAbsolutePath().normalize();
    if (Files.isDirectory(o)) {
      return o.resolve(name);
    }
    Path parent = o.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new Refused("cannot write to " + OfferHeader.quote(output.toString()) + ": its directory does not exist",
          "the place the receiver chose for it does not exist");
    }
    return o;
  }

  /**
   * Checks the target and the free space, and creates the temporary (an empty file, or an empty
   * directory) beside it.
   */
  public static Landing prepare(Path target, boolean directory, long size, boolean force) throws SessionException, IOException {
    Path dir = checkRoom(target, size, force);
    return create(target, dir, directory, force);
  }

  /**
   * A file landing whose temporary is a resumed partial ({@link Partial}): {@code channel} made
   * {@code temp} exclusively, {@code fileKey} is its identity, {@code more} bytes are still to come.
   */
  static Landing adopt(Path target, Path temp, FileChannel channel, Object fileKey, long more, boolean force)
      throws SessionException {
    checkRoom(target, more, force);
    return new Landing(target, temp, false, force, channel, fileKey);
  }

  private static Path checkRoom(Path target, long size, boolean force) throws SessionException {
    refuseExisting(target, force);
    Path dir = target.getParent();
    long free;
    try {
      free = Files.getFileStore(dir).getUsableSpace();
    } catch (IOException e) {
      throw new Refused("cannot write in " + dir + ": " + Failures.describe(e), "cannot write there: " + Failures.describe(e));
    }
    if (free < size) {
      String shortOf = "not enough space for " + OfferHeader.quote(target.getFileName().toString()) + ": "
          + ByteSize.format(size) + " needed, " + ByteSize.format(free) + " free";
      throw new Refused(shortOf + " in " + dir, shortOf);
    }
    return dir;
  }

  private static Landing create(Path target, Path dir, boolean directory, boolean force) throws SessionException, IOException {
    byte[] random = new byte[4];
    new SecureRandom().nextBytes(random);
    Path temp = dir.resolve("." + target.getFileName() + ".derphole-" + HexFormat.of().formatHex(random) + ".part");
    return createAt(target, temp, directory, force);
  }

  /**
   * A directory landing into {@code temp}, the one that belongs to a resumed partial: what a killed
   * receive left there is removed first (the partial is locked, so no other receive uses it).
   */
  static Landing prepareDirectoryAt(Path target, Path temp, long size, boolean force) throws SessionException, IOException {
    checkRoom(target, size, force);
    if (Files.isDirectory(temp, LinkOption.NOFOLLOW_LINKS)) {
      deleteTree(temp);
    } else {
      Files.deleteIfExists(temp);
    }
    return createAt(target, temp, true, force);
  }

  private static Landing createAt(Path target, Path temp, boolean directory, boolean force) throws SessionException, IOException {
    Path dir = temp.getParent();
    FileChannel channel = null;
    try {
      if (directory) {
        Files.createDirectory(temp);
      } else {
        channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
      }
      Object key = Files.readAttributes(temp, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
      return new Landing(target, temp, directory, force, channel, key);
    } catch (IOException e) {
      if (channel != null) {
        channel.close();
      }
      throw new Refused("cannot write in " + dir + ": " + Failures.describe(e), "cannot write there: " + Failures.describe(e));
    }
  }

  /**
   * A refusal of where or whether the offer lands: the message names this machine's paths for the
   * user here; {@link #toSender()} says the same without them, for the other side.
   */
  public static final class Refused extends SessionException {
    private final String toSender;

    Refused(String message, String toSender) {
      super(message);
      this.toSender = toSender;
    }

    /** The reason in words that reveal nothing of this machine's directories. */
    public String toSender() {
      return toSender;
    }
  }

  static void refuseExisting(Path target, boolean force) throws SessionException {
    if (!force && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new Refused(OfferHeader.quote(target.toString()) + " already exists; not replacing it"
          + " (use --force to replace it, or -o to choose another name)",
          OfferHeader.quote(target.getFileName().toString()) + " already exists there; not replacing it");
    }
  }

  public Path target() {
    return target;
  }

  /** The temporary directory to extract into, or the temporary file's name (written only by {@link #write}). */
  public Path temp() {
    return temp;
  }

  /** A file's whole body, through the channel that created the temporary, then flushed to disk. */
  public void write(InputStream body) throws IOException {
    if (channel == null) {
      throw new IllegalStateException("not a file landing");
    }
    OutputStream out = Channels.newOutputStream(channel);
    byte[] buf = new byte[256 << 10];
    for (int n; (n = body.read(buf)) > 0; ) {
      out.write(buf, 0, n);
    }
    channel.force(true);
  }

  /** Puts the verified result under the target name. */
  public synchronized void commit() throws SessionException, IOException {
    if (discarded) {
      throw new SessionException("the transfer was abandoned");
    }
    if (channel != null) {
      checkStillOurs();
    }
    if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      try {
        if (directory) {
          Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } else {
          Files.createLink(target, temp); // fails, unlike rename, if the name was taken meanwhile
          Files.delete(temp);
        }
        committed = true;
        return;
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
        // taken meanwhile: fall through to the checks below
      } catch (UnsupportedOperationException e) {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
        return;
      }
    }
    refuseExisting(target, force);
    if (!directory && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } else {
      Path aside = temp.resolveSibling(temp.getFileName() + ".old");
      Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(aside);
    }
    committed = true;
  }

  /** The temporary's name must still be the file written: not a link, not another file. */
  private void checkStillOurs() throws SessionException, IOException {
    long written = channel.size();
    channel.close();
    BasicFileAttributes now;
    try {
      now = Files.readAttributes(temp, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      now = null;
    }
    if (now == null || !now.isRegularFile() || now.size() != written || (fileKey != null && !fileKey.equals(now.fileKey()))) {
      throw new SessionException("the temporary file " + OfferHeader.quote(temp.toString())
          + " was replaced by something else during the transfer; nothing was kept");
    }
  }

  /** Removes the temporary unless committed; safe to call from a shutdown hook and more than once. */
  public synchronized void discard() {
    if (committed || discarded) {
      return;
    }
    discarded = true;
    try {
      if (channel != null) {
        channel.close();
      }
      deleteTree(temp);
    } catch (IOException ignored) {
      // best effort: a leftover is under the hidden temporary name, never the target's
    }
  }

  @Override
  public void close() {
    discard();
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        dir.toFile().setWritable(true, true); // a read-only directory from the archive
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
        Files.delete(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
