package dev.derphole.session.offer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What a sender calls its content when it asks to resume: SHA-256 over the offer's kind, name,
 * sizes and, for every source path and everything under it (sorted), its relative name, type, size,
 * permission bits and modification time in nanoseconds. Cheap (no byte is read), so every send can
 * offer it.
 *
 * <p>The id only decides which partial is worth trying, and which is stale: a source edited since
 * (new time or size) gets another id, and the receiver discards the partial it kept. An edit that
 * keeps size and time is caught byte-exactly all the same: before it sends the rest, the sender
 * hashes its own first bytes and compares them with the SHA-256 the receiver gives for what it
 * holds ({@link ResumeWire}), and the trailer's SHA-256 of the whole body is checked as always.
 * So a changed source is never merged with a partial of the old one.
 */
public final class ResumeId {
  private static final byte[] LABEL = "derphole/v1 resume id".getBytes(StandardCharsets.US_ASCII);

  private ResumeId() {}

  /** 64 lowercase hex digits. */
  public static boolean isWellFormed(String id) {
    return id.length() == 64 && id.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }

  /** The id of an offer whose body is made of {@code sources} (files or directories). */
  public static String of(OfferKind kind, String name, long size, long files, long contentBytes, List<Path> sources)
      throws IOException {
    MessageDigest sha = Sha256.create();
    sha.update(LABEL);
    field(sha, kind.jsonName());
    field(sha, name);
    field(sha, size + "/" + files + "/" + contentBytes);
    for (Path source : sources) {
      Path root = source.toAbsolutePath().normalize();
      field(sha, "source " + root.getFileName());
      try (Stream<Path> walk = Files.walk(root)) {
        for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
          field(sha, root.relativize(p).toString().replace('\\', '/'));
          field(sha, describe(p));
        }
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static String describe(Path p) throws IOException {
    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    String type = a.isDirectory() ? "d" : a.isRegularFile() ? "f" : "o";
    String mode = "";
    try {
      mode = PosixFilePermissions.toString(
          Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS).permissions());
    } catch (UnsupportedOperationException e) {
      // no POSIX modes here (Windows): type, size and time still tell an edit
    }
    return type + " " + a.size() + " " + mode + " " + a.lastModifiedTime().to(TimeUnit.NANOSECONDS);
  }

  /** Length-prefixed, so no two lists of fields hash alike. */
  private static void field(MessageDigest sha, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    sha.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
    sha.update(b);
  }
}
