package dev.derphole.session.offer;

import dev.derphole.session.SessionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A directory tree as a tar stream whose exact length is known before the first byte is written,
 * so the offer header can carry it and both sides can show progress against a real total.
 *
 * <p>{@link #plan} walks the tree once (sorted, symlinks not followed) and records every entry;
 * {@link #writeTo} streams the same entries with Apache Commons Compress, reading each file as it
 * goes. The size is the sum, per entry, of its header records (measured by writing that one header,
 * PAX records included, to a counter) and its data rounded up to 512 bytes, plus the two zero
 * records that end the archive. The stream uses 512-byte blocks, so there is no padding beyond that.
 *
 * <p>What is carried: regular files (bytes, permission bits, modification time) and directories
 * (empty ones too, with their permission bits). The first entry, {@value #TOP}, is the directory
 * itself; the other names are relative to it, {@code /} separated, directories with a trailing
 * {@code /}; non-ASCII and long names get PAX records.
 * Symbolic links and special files (sockets, FIFOs, devices) are refused when planning, before
 * anything is offered: a link could point anywhere on the receiver's machine.
 */
public final class DirectoryTar {
  static final int RECORD = 512;
  /** The type bits in a tar mode. */
  static final int TYPE_DIRECTORY = 0040000;
  static final int TYPE_FILE = 0100000;

  /** The first entry: the directory itself, for its permission bits and time. */
  public static final String TOP = "./";

  /** One planned entry: a regular file or a directory. */
  record Entry(String name, Path path, boolean directory, int permissions, long size, long mtimeMillis) {}

  private final List<Entry> entries;
  private final long size;
  private final long files;
  private final long contentBytes;

  private DirectoryTar(List<Entry> entries, long size, long files, long contentBytes) {
    this.entries = entries;
    this.size = size;
    this.files = files;
    this.contentBytes = contentBytes;
  }

  /** Walks {@code root}; refuses symlinks and special files with a message naming the first one. */
  public static DirectoryTar plan(Path root) throws SessionException, IOException {
    List<Entry> entries = new ArrayList<>();
    BasicFileAttributes top = attributes(root);
    entries.add(new Entry(TOP, root, true, mode(top), 0, top.lastModifiedTime().toMillis()));
    walk(root, "", entries);
    return of(entries);
  }

  /**
   * Several files and directories side by side, for {@link OfferKind#ITEMS}: no {@value #TOP} entry;
   * each path is a top-level entry named by its last component (a directory's with a trailing
   * {@code /}, its tree after it under that prefix). Refusals as in {@link #plan}; two paths with
   * the same last component are the caller's to refuse, before this.
   */
  public static DirectoryTar planItems(List<Path> paths) throws SessionException, IOException {
    List<Entry> entries = new ArrayList<>();
    for (Path p : paths) {
      add(p, p.getFileName().toString(), entries);
    }
    return of(entries);
  }

  private static DirectoryTar of(List<Entry> entries) throws IOException {
    long size = 2L * RECORD;
    long files = 0;
    long content = 0;
    for (Entry e : entries) {
      size += headerBytes(header(e)) + padded(e.size);
      if (!e.directory) {
        files++;
        content += e.size;
      }
    }
    return new DirectoryTar(List.copyOf(entries), size, files, content);
  }

  private static void walk(Path dir, String prefix, List<Entry> into) throws SessionException, IOException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      ds.forEach(children::add);
    }
    children.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    for (Path child : children) {
      add(child, prefix + child.getFileName().toString(), into);
    }
  }

  /** One path as the entry {@code name}, and a directory's tree after it. */
  private static void add(Path child, String name, List<Entry> into) throws SessionException, IOException {
    BasicFileAttributes a = attributes(child, LinkOption.NOFOLLOW_LINKS);
    int perms = mode(a);
    long mtime = a.lastModifiedTime().toMillis();
    if (a.isSymbolicLink()) {
      throw linkRefused(name);
    } else if (a.isDirectory()) {
      into.add(new Entry(name + "/", child, true, perms, 0, mtime));
      walk(child, name + "/", into);
    } else if (a.isRegularFile()) {
      if (!Files.isReadable(child)) {
        throw new SessionException("cannot read " + OfferHeader.quote(name) + ": permission denied");
      }
      into.add(new Entry(name, child, false, perms, a.size(), mtime));
    } else {
      throw new SessionException(OfferHeader.quote(name) + " is not a regular file or directory (a socket, FIFO or device);"
          + " derphole send carries only files and directories");
    }
  }

  /** The exact length of the tar stream {@link #writeTo} writes. */
  public long size() {
    return size;
  }

  /** How many regular files the tree holds. */
  public long files() {
    return files;
  }

  /** The bytes of all regular files together. */
  public long contentBytes() {
    return contentBytes;
  }

  /**
   * Writes the archive. Each file is read as planned: one that has shrunk since is an error (the
   * archive would be cut); one that has grown is sent as its first planned bytes.
   */
  public void writeTo(OutputStream out) throws SessionException, IOException {
    CountingOutputStream counted = new CountingOutputStream(out);
    TarArchiveOutputStream tar = open(counted);
    byte[] buf = new byte[1 << 16];
    for (Entry e : entries) {
      tar.putArchiveEntry(header(e));
      if (!e.directory) {
        try (InputStream in = Files.newInputStream(e.path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
          long left = e.size;
          while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
              throw new SessionException(OfferHeader.quote(e.name) + " shrank while being sent; send it again");
            }
            tar.write(buf, 0, n);
            left -= n;
          }
        }
      }
      tar.closeArchiveEntry();
    }
    tar.finish();
    tar.flush();
    if (counted.count != size) {
      throw new IllegalStateException("tar stream of " + counted.count + " bytes, planned " + size);
    }
  }

  static TarArchiveEntry header(Entry e) {
    TarArchiveEntry t = new TarArchiveEntry(e.name);
    t.setMode((e.directory ? TYPE_DIRECTORY : TYPE_FILE) | e.permissions);
    t.setSize(e.size);
    t.setModTime(new Date(e.mtimeMillis / 1000 * 1000));
    return t;
  }

  static TarArchiveOutputStream open(OutputStream out) {
    TarArchiveOutputStream tar = new TarArchiveOutputStream(out, RECORD, StandardCharsets.UTF_8.name());
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    tar.setAddPaxHeadersForNonAsciiNames(true);
    return tar;
  }

  /** The bytes one entry's header records take, PAX records included. */
  static long headerBytes(TarArchiveEntry header) throws IOException {
    CountingOutputStream counter = new CountingOutputStream(OutputStream.nullOutputStream());
    TarArchiveOutputStream tar = open(counter);
    tar.putArchiveEntry(header);
    tar.flush();
    return counter.count;
  }

  static long padded(long n) {
    return (n + RECORD - 1) / RECORD * RECORD;
  }

  /** POSIX attributes where the file system has them, else the basic ones (Windows). */
  private static BasicFileAttributes attributes(Path p, LinkOption... options) throws IOException {
    return Files.getFileAttributeView(p, PosixFileAttributeView.class, options) != null
        ? Files.readAttributes(p, PosixFileAttributes.class, options)
        : Files.readAttributes(p, BasicFileAttributes.class, options);
  }

  /** The entry's permission bits; without POSIX permissions, 0755 for a directory and 0644 for a file. */
  static int mode(BasicFileAttributes a) {
    if (a instanceof PosixFileAttributes posix) {
      return permissions(posix.permissions());
    }
    return a.isDirectory() ? 0755 : 0644;
  }

  static int permissions(Set<PosixFilePermission> set) {
    int mode = 0;
    for (PosixFilePermission p : set) {
      mode |= 1 << (8 - p.ordinal());
    }
    return mode;
  }

  static final class CountingOutputStream extends java.io.FilterOutputStream {
    long count;

    CountingOutputStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }

  /** The one refusal of a symbolic link, at the top ({@code derphole send ./link}) or inside a directory. */
  public static SessionException linkRefused(String name) {
    return new SessionException(OfferHeader.quote(name) + " is a symbolic link; derphole send does not carry links"
        + " (they could point anywhere on the other machine): remove it or send its target");
  }
}
