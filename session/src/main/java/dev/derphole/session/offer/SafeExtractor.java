package dev.derphole.session.offer;

import dev.derphole.session.SessionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts a tar stream into a fresh, empty directory, refusing anything that could reach outside
 * it or surprise the user:
 *
 * <ul>
 *   <li>names that are absolute, contain a {@code ..} or {@code .} component, an empty component
 *       or a NUL;
 *   <li>any entry that is not a regular file or a directory (symbolic and hard links, devices,
 *       FIFOs): so no link is ever created, and no later entry can write through one;
 *   <li>a file whose name is taken already (a duplicate entry), and a path whose parent is not a
 *       directory this extraction made.
 * </ul>
 *
 * An entry {@code ./} (a directory) stands for the extraction directory itself and only sets its
 * mode and time. Files are created with {@code CREATE_NEW} and {@code NOFOLLOW_LINKS}. Permission bits are the
 * archive's {@code 0777} bits less the receiver's umask ({@link Umask}; setuid, setgid and sticky are
 * dropped); directories get theirs at the end, deepest first, so a read-only directory can still be filled.
 */
public final class SafeExtractor {
  /** What was extracted. */
  public record Result(long files, long directories, long bytes) {}

  private SafeExtractor() {}

  public static Result extract(InputStream in, Path into) throws SessionException, IOException {
    return extract(in, into, Umask.of(into));
  }

  /** As {@link #extract(InputStream, Path)}, with the mode bits in {@code umask} cleared from every entry's. */
  static Result extract(InputStream in, Path into, int umask) throws SessionException, IOException {
    Path root = into.toAbsolutePath().normalize();
    List<TarArchiveEntry> dirs = new ArrayList<>();
    List<Path> dirPaths = new ArrayList<>();
    long files = 0;
    long bytes = 0;
    // Read through the archive by hand: the stream belongs to the caller, who reads the rest.
    TarArchiveInputStream tar = new TarArchiveInputStream(in, StandardCharsets.UTF_8.name());
    byte[] buf = new byte[1 << 16];
    TarArchiveEntry e;
    while ((e = tar.getNextEntry()) != null) {
      String name = e.getName();
      if (name.equals(DirectoryTar.TOP) && e.isDirectory()) {
        dirs.add(e); // the extraction directory itself: only its mode and time
        dirPaths.add(root);
        continue;
      }
      List<String> parts = components(name);
      Path target = root;
      try {
        for (String p : parts) {
          String problem = LocalNames.problem(p, root.getFileSystem());
          if (problem != null) {
            throw unsafe(name, problem);
          }
          target = target.resolve(p);
        }
      } catch (java.nio.file.InvalidPathException x) {
        throw unsafe(name, "is not a valid file name here");
      }
      if (!target.normalize().startsWith(root) || target.equals(root)) {
        throw unsafe(name, "leaves the target directory");
      }
      if (e.isDirectory()) {
        makeParents(root, target.getParent());
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
          mkdir(target, name);
        }
        dirs.add(e);
        dirPaths.add(target);
      } else if (isRegularFile(e)) {
        makeParents(root, target.getParent());
        try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS)) {
          for (int n; (n = tar.read(buf)) > 0; ) {
            out.write(buf, 0, n);
            bytes += n;
          }
        } catch (FileAlreadyExistsException x) {
          throw unsafe(name, "appears twice in the archive");
        }
        setMode(target, e.getMode() & ~umask);
        Files.setLastModifiedTime(target, FileTime.fromMillis(e.getModTime().getTime()));
        files++;
      } else if (e.isSymbolicLink() || e.isLink()) {
        throw unsafe(name, "is a link to " + OfferHeader.quote(e.getLinkName()) + " (derphole never sends links)");
      } else {
        throw unsafe(name, "is not a regular file or directory");
      }
    }
    for (int i = dirs.size() - 1; i >= 0; i--) {
      setMode(dirPaths.get(i), dirs.get(i).getMode() & ~umask);
      Files.setLastModifiedTime(dirPaths.get(i), FileTime.fromMillis(dirs.get(i).getModTime().getTime()));
    }
    return new Result(files, dirPaths.stream().filter(p -> !p.equals(root)).count(), bytes);
  }

  /** Commons Compress calls every non-directory "a file"; only plain file entries are. */
  private static boolean isRegularFile(TarArchiveEntry e) {
    return e.isFile() && !e.isLink() && !e.isSymbolicLink() && !e.isSparse() && !e.isCharacterDevice()
        && !e.isBlockDevice() && !e.isFIFO();
  }

  /** The name's components, each checked; a trailing {@code /} (directories) is allowed. */
  static List<String> components(String name) throws SessionException {
    if (name.isEmpty() || name.startsWith("/") || name.indexOf('\0') >= 0) {
      throw unsafe(name, "is absolute or empty");
    }
    String trimmed = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
    List<String> parts = new ArrayList<>();
    for (String p : trimmed.split("/", -1)) {
      if (p.isEmpty() || p.equals(".") || p.equals("..")) {
        throw unsafe(name, "has a \"" + p + "\" component");
      }
      parts.add(p);
    }
    return parts;
  }

  /** Creates the missing directories between {@code root} and {@code dir}; each existing one must be a real directory. */
  private static void makeParents(Path root, Path dir) throws SessionException, IOException {
    List<Path> chain = new ArrayList<>();
    for (Path p = dir; !p.equals(root); p = p.getParent()) {
      chain.add(0, p);
    }
    for (Path p : chain) {
      if (Files.isSymbolicLink(p)) {
        throw unsafe(root.relativize(p).toString(), "would be written through a link");
      }
      if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        mkdir(p, root.relativize(p).toString());
      } else if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        throw unsafe(root.relativize(p).toString(), "is a file and a directory in the archive");
      }
    }
  }

  private static void mkdir(Path p, String name) throws SessionException, IOException {
    try {
      Files.createDirectory(p);
    } catch (FileAlreadyExistsException x) {
      throw unsafe(name, "is a file and a directory in the archive");
    }
  }

  /** The archive's permission bits, where the file system has POSIX permissions; elsewhere (Windows) the defaults stay. */
  private static void setMode(Path p, int mode) throws IOException {
    PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
    if (view != null) {
      view.setPermissions(permissions(mode));
    }
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    for (PosixFilePermission p : PosixFilePermission.values()) {
      if ((mode & (1 << (8 - p.ordinal()))) != 0) {
        set.add(p);
      }
    }
    return set;
  }

  private static SessionException unsafe(String name, String why) {
    return new SessionException("refusing the archive: entry " + OfferHeader.quote(name) + " " + why);
  }
}
