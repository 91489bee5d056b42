package dev.derphole.session.offer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;

/**
 * A partial body kept for a later resume: the body's first bytes in a hidden, owner-only file
 * beside the target ({@code .NAME.derphole-XXXXXXXX.part}; {@code .tar.part} for a directory's tar
 * stream) and its {@link PartialMeta} ({@code .NAME.derphole-XXXXXXXX.resume}) with a SHA-256 per
 * {@link #CHUNK} that arrived.
 *
 * <p>Files are created with {@code O_CREAT|O_EXCL}, mode 0600, and only ever used through the
 * channels that opened them, opened without following links. A kept partial is reopened only if
 * both names are regular files of this user, with no permission for others and one link, and the
 * data is re-hashed chunk by chunk against the record: only the verified prefix is held, the rest is
 * cut off. The meta file is locked while a receive uses it, so two receives never share one.
 */
public final class Partial implements AutoCloseable {
  /** The unit a partial is verified and resumed in. */
  public static final int CHUNK = 4 << 20;
  static final String INFIX = ".derphole-";
  static final String META = ".resume";

  private final Path meta;
  private final Path data;
  private final PartialMeta record;
  private final FileChannel metaChannel;
  private final FileChannel dataChannel;
  private final FileLock lock;
  private final Object fileKey;
  /** Verified bytes at the start of the data: what the sender need not send. */
  private long held;
  /** SHA-256 of the body's first {@code held} bytes. */
  private MessageDigest heldDigest;
  /** Chunk records in the meta file. */
  private long recorded;
  private boolean closed;

  private Partial(Path meta, Path data, PartialMeta record, FileChannel metaChannel, FileChannel dataChannel,
                  FileLock lock, Object fileKey, long held, MessageDigest heldDigest) {
    this.meta = meta;
    this.data = data;
    this.record = record;
    this.metaChannel = metaChannel;
    this.dataChannel = dataChannel;
    this.lock = lock;
    this.fileKey = fileKey;
    this.held = held;
    this.heldDigest = heldDigest;
    this.recorded = PartialMeta.chunkCount(held);
  }

  static String metaName(String name, String tag) {
    return "." + name + INFIX + tag + META;
  }

  static Path dataFor(Path meta, OfferKind kind) {
    String m = meta.getFileName().toString();
    String stem = m.substring(0, m.length() - META.length());
    return meta.resolveSibling(stem + (kind == OfferKind.DIRECTORY ? ".tar.part" : ".part"));
  }

  /** A fresh, empty partial for a body of {@code size} bytes named {@code id}. */
  static Partial create(Path dir, String name, OfferKind kind, String id, long size) throws IOException {
    byte[] random = new byte[4];
    new SecureRandom().nextBytes(random);
    Path meta = dir.resolve(metaName(name, HexFormat.of().formatHex(random)));
    Path data = dataFor(meta, kind);
    PartialMeta record = new PartialMeta(id, size, kind, java.util.List.of());
    FileChannel m = null;
    FileChannel d = null;
    try {
      m = create(meta);
      d = create(data);
      FileLock lock = m.lock();
      m.write(ByteBuffer.wrap(record.encodeHeader()));
      Object key = Files.readAttributes(data, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
      return new Partial(meta, data, record, m, d, lock, key, 0, Sha256.create());
    } catch (IOException | RuntimeException e) {
      closeQuietly(m);
      closeQuietly(d);
      Files.deleteIfExists(meta);
      Files.deleteIfExists(data);
      throw e;
    }
  }

  private static FileChannel create(Path p) throws IOException {
    Set<java.nio.file.OpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    if (p.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      FileAttribute<Set<PosixFilePermission>> ownerOnly = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
      return FileChannel.open(p, options, ownerOnly);
    }
    return FileChannel.open(p, options); // no POSIX modes (Windows): the directory's own access rules apply
  }

  /** What a kept partial turned out to be when reopened. */
  sealed interface Found {
    /** Another content's partial (the source changed): discard it. */
    record Stale(PartialMeta record) implements Found {}

    /** Not ours to use (another user's, a link, a bad record, in use by another receive). */
    record Unusable(String why) implements Found {}

    /** Usable; {@code damagedAt} ≥ 0 when the data stopped matching its record there and was cut. */
    record Usable(Partial partial, long damagedAt) implements Found {}
  }

  /**
   * Reopens the partial {@code meta} for an offer of {@code id}: checks both files, reads the record
   * (bounded), and re-hashes the data against it.
   */
  static Found reopen(Path meta, String id, OfferKind kind, long size) throws IOException {
    String why = untrusted(meta);
    if (why != null) {
      return new Found.Unusable(why);
    }
    FileChannel m = FileChannel.open(meta, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    FileChannel d = null;
    try {
      FileLock lock;
      try {
        lock = m.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        m.close();
        return new Found.Unusable("in use by another receive");
      }
      if (m.size() > PartialMeta.MAX_LENGTH) {
        m.close();
        return new Found.Unusable("its record is too large");
      }
      ByteBuffer b = ByteBuffer.allocate((int) m.size());
      while (b.hasRemaining() && m.read(b) >= 0) {
        // until full: the size was read just above
      }
      PartialMeta record = PartialMeta.decode(Arrays.copyOf(b.array(), b.position()));
      if (record == null) {
        m.close();
        return new Found.Unusable("its record is malformed");
      }
      if (!record.id().equals(id) || record.kind() != kind || record.size() != size) {
        m.close();
        return new Found.Stale(record);
      }
      Path data = dataFor(meta, kind);
      why = untrusted(data);
      if (why != null) {
        m.close();
        return new Found.Unusable(why);
      }
      Object key = Files.readAttributes(data, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
      d = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
      Object again = Files.readAttributes(data, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
      if (key != null && !key.equals(again)) {
        throw new IOException("the partial's data file was replaced while being opened");
      }
      MessageDigest body = Sha256.create();
      MessageDigest chunk = Sha256.create();
      ByteBuffer buf = ByteBuffer.allocate(CHUNK);
      long good = 0;
      long damagedAt = -1;
      for (byte[] expected : record.chunks()) {
        int length = (int) Math.min(CHUNK, size - good);
        buf.clear().limit(length);
        while (buf.hasRemaining() && d.read(buf, good + buf.position()) > 0) {
          // fill the chunk
        }
        if (buf.hasRemaining()) {
          break; // the data ends before its record: keep what is whole
        }
        chunk.update(buf.array(), 0, length);
        if (!MessageDigest.isEqual(chunk.digest(), expected)) {
          damagedAt = good;
          break;
        }
        body.update(buf.array(), 0, length);
        good += length;
      }
      d.truncate(good);
      m.truncate(PartialMeta.HEADER + PartialMeta.chunkCount(good) * Sha256.LENGTH);
      m.position(m.size());
      return new Found.Usable(new Partial(meta, data, record, m, d, lock, key, good, body), damagedAt);
    } catch (IOException | RuntimeException e) {
      closeQuietly(m);
      closeQuietly(d);
      throw e;
    }
  }

  /** Why {@code p} is not to be trusted as this user's own partial, or null if it may be. */
  static String untrusted(Path p) throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (java.nio.file.NoSuchFileException e) {
      return "its data is missing";
    }
    if (!a.isRegularFile()) {
      return "it is not a regular file";
    }
    if (p.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      PosixFileAttributes posix = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      UserPrincipal me = currentUser(p);
      if (me != null && !me.equals(posix.owner())) {
        return "it belongs to another user";
      }
      if (!EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE).containsAll(posix.permissions())) {
        return "others may read or write it";
      }
    }
    if (p.getFileSystem().supportedFileAttributeViews().contains("unix")) {
      Object links = Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
      if (links instanceof Integer n && n != 1) {
        return "it has other names (hard links)";
      }
    }
    return null;
  }

  private static UserPrincipal currentUser(Path p) {
    try {
      return p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(System.getProperty("user.name"));
    } catch (IOException | UnsupportedOperationException e) {
      return null;
    }
  }

  /** Where a directory's tar is extracted: named after this partial, so a killed receive's leftover is found. */
  Path extractionDir() {
    String m = meta.getFileName().toString();
    return meta.resolveSibling(m.substring(0, m.length() - META.length()) + ".part");
  }

  public long held() {
    return held;
  }

  public long size() {
    return record.size();
  }

  /** SHA-256 of the held bytes. */
  byte[] heldSha() {
    return held == 0 ? new byte[Sha256.LENGTH] : clone(heldDigest).digest();
  }

  /** A running SHA-256 of the body that has taken in the held bytes. */
  MessageDigest digestAtHeld() {
    return clone(heldDigest);
  }

  Path data() {
    return data;
  }

  FileChannel channel() {
    return dataChannel;
  }

  Object fileKey() {
    return fileKey;
  }

  /** Forgets what is held: the sender starts from the beginning. */
  synchronized void restart() throws IOException {
    dataChannel.truncate(0);
    metaChannel.truncate(PartialMeta.HEADER);
    metaChannel.position(PartialMeta.HEADER);
    held = 0;
    recorded = 0;
    heldDigest = Sha256.create();
  }

  /** The held bytes, read back from the data file (a directory's tar is extracted from the start). */
  InputStream replay() {
    return Channels.newInputStream(new BoundedReadChannel(dataChannel, held));
  }

  /**
   * Passes {@code in} through, writing every byte to the data file after the held ones and
   * recording each chunk's SHA-256 once it is whole (so a kill at any moment leaves a record that
   * matches what is on disk, or less).
   */
  InputStream recording(InputStream in) {
    return new java.io.FilterInputStream(in) {
      private long position = held;
      private final MessageDigest chunk = Sha256.create();
      private long chunkFill;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
          record(b, off, n);
        }
        return n;
      }

      private void record(byte[] b, int off, int n) throws IOException {
        synchronized (Partial.this) {
          if (closed) {
            throw new IOException("the transfer was abandoned");
          }
          ByteBuffer buf = ByteBuffer.wrap(b, off, n);
          while (buf.hasRemaining()) {
            position += dataChannel.write(buf, position);
          }
          for (int done = 0; done < n; ) {
            long chunkLength = Math.min(CHUNK, record.size() - recorded * CHUNK);
            int take = (int) Math.min(n - done, chunkLength - chunkFill);
            chunk.update(b, off + done, take);
            chunkFill += take;
            done += take;
            if (chunkFill == chunkLength) {
              metaChannel.write(ByteBuffer.wrap(chunk.digest()), PartialMeta.HEADER + recorded * Sha256.LENGTH);
              recorded++;
              chunkFill = 0;
            }
          }
        }
      }
    };
  }

  /** Bytes recorded as whole chunks: what a later resume can hold. */
  synchronized long recordedBytes() {
    return Math.min(recorded * CHUNK, record.size());
  }

  /**
   * Keeps the partial for a later resume: cuts the data to its whole recorded chunks and closes.
   * Returns the bytes kept; with none, both files are removed.
   */
  public synchronized long keep() {
    if (closed) {
      return 0;
    }
    long kept = recordedBytes();
    try {
      if (kept == 0) {
        delete();
        return 0;
      }
      dataChannel.truncate(kept);
      dataChannel.force(true);
      metaChannel.force(true);
    } catch (IOException e) {
      // what is on disk is verified again at the next resume
    }
    closeChannels();
    return kept;
  }

  /** Removes both files. */
  public synchronized void delete() {
    closeChannels();
    try {
      Files.deleteIfExists(meta);
      Files.deleteIfExists(data);
    } catch (IOException ignored) {
      // best effort: a leftover is hidden, owner-only, and swept after a week
    }
  }

  /** The body is complete and verified: the record goes; a file's data stays for its landing to commit. */
  synchronized void completed() {
    try {
      lock.release();
      metaChannel.close();
      Files.deleteIfExists(meta);
    } catch (IOException ignored) {
      // a record without data is swept later
    }
  }

  private void closeChannels() {
    closed = true;
    closeQuietly(dataChannel);
    closeQuietly(metaChannel); // releases the lock
  }

  @Override
  public void close() {
    keep();
  }

  private static void closeQuietly(java.io.Closeable c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException ignored) {
        // closing what failed
      }
    }
  }

  private static MessageDigest clone(MessageDigest d) {
    try {
      return (MessageDigest) d.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("SHA-256 cannot be cloned here", e);
    }
  }

  /** Reads a channel's first {@code limit} bytes, positionally. */
  private static final class BoundedReadChannel implements java.nio.channels.ReadableByteChannel {
    private final FileChannel channel;
    private final long limit;
    private long position;

    BoundedReadChannel(FileChannel channel, long limit) {
      this.channel = channel;
      this.limit = limit;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (position >= limit) {
        return -1;
      }
      ByteBuffer slice = dst.slice();
      slice.limit((int) Math.min(slice.remaining(), limit - position));
      int n = channel.read(slice, position);
      if (n < 0) {
        throw new IOException("the partial shrank while being read");
      }
      position += n;
      dst.position(dst.position() + n);
      return n;
    }

    @Override
    public boolean isOpen() {
      return channel.isOpen();
    }

    @Override
    public void close() {
      // the partial owns the channel
    }
  }
}
