package dev.derphole.session.offer;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.SessionException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where the items of an {@link OfferKind#ITEMS} offer go: each top-level name lands beside the
 * others in one directory, all or nothing. The tar stream is extracted into one hidden temporary
 * directory there ({@code .derphole-items-XXXXXXXX.part}); only once it is complete and verified,
 * and holds exactly the offered names with the offered types, is each moved to its final name.
 * Until {@link #commit} no final name is touched.
 *
 * <p>The rules are {@link Landing}'s, for every name: an existing one is refused unless {@code
 * force}, when the offer arrives (so nothing is sent in vain) and again before the first move; a
 * file is put in place with a hard link, which fails if the name was taken meanwhile. With {@code
 * force} an existing name is first moved aside, and deleted only once every item is in place. If a
 * move fails half-way, the items already moved go back into the temporary and the old ones back to
 * their names, so the directory is as it was.
 */
public final class ItemsLanding implements AutoCloseable {
  private final Path directory;
  private final List<String> items;
  private final Path temp;
  private final boolean force;
  private boolean committed;
  private boolean discarded;

  private ItemsLanding(Path directory, List<String> items, Path temp, boolean force) {
    this.directory = directory;
    this.items = items;
    this.temp = temp;
    this.force = force;
  }

  /**
   * The directory several items go in: {@code cwd} without {@code -o}, else {@code output}, which
   * must be an existing directory (there is no one new name for several items).
   */
  public static Path directory(Path cwd, String output) throws SessionException {
    if (output == null) {
      return cwd.toAbsolutePath().normalize();
    }
    Path o = cwd.resolve(output).toAbsolutePath().normalize();
    if (!Files.isDirectory(o)) {
      throw new Landing.Refused("cannot write to " + OfferHeader.quote(output) + ": several items go into a directory,"
          + " and there is no directory of that name", "the place the receiver chose for them is not a directory");
    }
    return o;
  }

  /**
   * Checks every name (on this file system, and that it is free unless {@code force}) and the free
   * space, and creates the temporary directory.
   *
   * @param items the header's items, a directory's with a trailing {@code /}
   */
  public static ItemsLanding prepare(Path directory, List<String> items, long size, boolean force)
      throws SessionException, IOException {
    for (String item : items) {
      Landing.target(directory, null, OfferHeader.itemName(item)); // the name's check on this file system
      Landing.refuseExisting(directory.resolve(OfferHeader.itemName(item)), force);
    }
    long free = Files.getFileStore(directory).getUsableSpace();
    if (free < size) {
      String shortOf = "not enough space for " + items.size() + " items: " + ByteSize.format(size) + " needed, "
          + ByteSize.format(free) + " free";
      throw new Landing.Refused(shortOf + " in " + directory, shortOf);
    }
    byte[] random = new byte[4];
    new SecureRandom().nextBytes(random);
    Path temp = directory.resolve(".derphole-items-" + java.util.HexFormat.of().formatHex(random) + ".part");
    try {
      Files.createDirectory(temp);
    } catch (IOException e) {
      throw new Landing.Refused("cannot write in " + directory + ": " + Failures.describe(e),
          "cannot write there: " + Failures.describe(e));
    }
    return new ItemsLanding(directory, List.copyOf(items), temp, force);
  }

  /** The directory the items land in. */
  public Path directory() {
    return directory;
  }

  /** The temporary directory to extract into. */
  public Path temp() {
    return temp;
  }

  /**
   * Puts the verified items under their names, all or none. The extracted tree must hold exactly
   * the offered names, each a directory if offered as one ({@code name/}) and a regular file if not.
   */
  public synchronized void commit() throws SessionException, IOException {
    if (discarded) {
      throw new SessionException("the transfer was abandoned");
    }
    checkExtracted();
    for (String item : items) {
      Landing.refuseExisting(directory.resolve(OfferHeader.itemName(item)), force);
    }
    Path aside = temp.resolveSibling(temp.getFileName() + ".old");
    Deque<Runnable> undo = new ArrayDeque<>();
    boolean asideMade = false;
    try {
      for (String item : items) {
        String name = OfferHeader.itemName(item);
        Path from = temp.resolve(name);
        Path to = directory.resolve(name);
        if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) { // only with force: checked above
          if (!asideMade) {
            Files.createDirectory(aside);
            asideMade = true;
          }
          Path old = aside.resolve(name);
          Files.move(to, old, StandardCopyOption.ATOMIC_MOVE);
          undo.push(() -> quietly(() -> Files.move(old, to, StandardCopyOption.ATOMIC_MOVE)));
        }
        place(from, to, item.endsWith("/"));
        undo.push(() -> quietly(() -> Files.move(to, from, StandardCopyOption.ATOMIC_MOVE)));
      }
    } catch (IOException e) {
      while (!undo.isEmpty()) {
        undo.pop().run();
      }
      if (asideMade) {
        quietly(() -> Landing.deleteTree(aside));
      }
      throw new SessionException("could not put the items in place in " + directory + ": " + Failures.describe(e)
          + "; nothing was kept", e);
    }
    committed = true;
    if (asideMade) {
      quietly(() -> Landing.deleteTree(aside));
    }
    quietly(() -> Landing.deleteTree(temp));
  }

  /** A file by hard link (fails, unlike rename, if the name was taken meanwhile); a directory by rename. */
  private static void place(Path from, Path to, boolean directory) throws IOException {
    if (!directory) {
      try {
        Files.createLink(to, from);
        Files.delete(from);
        return;
      } catch (UnsupportedOperationException e) {
        // no hard links here: a rename, as for a directory
      }
    }
    Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The temporary holds the offered names, with their types, and nothing else. */
  private void checkExtracted() throws SessionException, IOException {
    Set<String> found = new HashSet<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(temp)) {
      for (Path p : ds) {
        found.add(p.getFileName().toString());
      }
    }
    for (String item : items) {
      String name = OfferHeader.itemName(item);
      Path p = temp.resolve(name);
      boolean ok = item.endsWith("/") ? Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
          : Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
      if (!found.remove(name) || !ok) {
        throw new SessionException("refusing the archive: it does not hold " + OfferHeader.quote(item)
            + " as offered; nothing was kept");
      }
    }
    if (!found.isEmpty()) {
      throw new SessionException("refusing the archive: it holds " + OfferHeader.quote(found.iterator().next())
          + ", which was not offered; nothing was kept");
    }
  }

  /** Removes the temporary unless committed; safe to call from a shutdown hook and more than once. */
  public synchronized void discard() {
    if (committed || discarded) {
      return;
    }
    discarded = true;
    quietly(() -> Landing.deleteTree(temp));
  }

  @Override
  public void close() {
    discard();
  }

  private interface IoAction {
    void run() throws IOException;
  }

  /** Best effort: what is left is under a hidden temporary name, never a final one. */
  private static void quietly(IoAction action) {
    try {
      action.run();
    } catch (IOException ignored) {
      // see above
    }
  }
}
