package dev.derphole.session.offer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * The receiving process's file mode creation mask, which the modes a sender asks for are filtered
 * through (as {@code tar} does for a user other than root, and {@code cp} does), so a sender cannot
 * hand out {@code 0777} directories or {@code 0666} files. Java has no getter: Linux reports it in
 * {@code /proc/self/status} ({@code Umask:\t0022}, since 4.7); elsewhere a directory made with the
 * default mode shows it ({@code 0777} minus what it got).
 */
public final class Umask {
  private static final Path STATUS = Path.of("/proc/self/status");
  /** Where no mode can be read at all (a file system without POSIX modes): the usual default. */
  static final int FALLBACK = 022;

  private Umask() {}

  /** The current umask; {@code dir} is where a probe directory may be made and removed, if it comes to that. */
  public static int of(Path dir) throws IOException {
    Integer fromStatus = fromStatus(STATUS);
    return fromStatus != null ? fromStatus : probe(dir);
  }

  /** The {@code Umask:} line of a {@code /proc/PID/status}, or null if there is none to read. */
  static Integer fromStatus(Path status) {
    List<String> lines;
    try {
      lines = Files.readAllLines(status, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
    for (String line : lines) {
      if (line.startsWith("Umask:")) {
        try {
          return Integer.parseInt(line.substring("Umask:".length()).strip(), 8) & 0777;
        } catch (NumberFormatException e) {
          return null;
        }
      }
    }
    return null;
  }

  /** Makes a directory in {@code dir} with the default mode and reads what the mask left of {@code 0777}. */
  static int probe(Path dir) throws IOException {
    byte[] random = new byte[4];
    new SecureRandom().nextBytes(random);
    Path p = Files.createDirectory(dir.resolve(".derphole-umask-" + HexFormat.of().formatHex(random)));
    try {
      int mode = 0;
      for (PosixFilePermission perm : Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)) {
        mode |= 1 << (8 - perm.ordinal());
      }
      return 0777 & ~mode;
    } catch (UnsupportedOperationException e) {
      return FALLBACK;
    } finally {
      Files.delete(p);
    }
  }
}
