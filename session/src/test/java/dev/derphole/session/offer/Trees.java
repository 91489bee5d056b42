package dev.derphole.session.offer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Directory trees as comparable maps: relative path (the root itself as "") → type, mode and content digest. */
final class Trees {
  private Trees() {}

  static Map<String, String> describe(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
        String what = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir " + mode
            : "file " + mode + " " + HexFormat.of().formatHex(Sha256.create().digest(Files.readAllBytes(p)));
        out.put(root.relativize(p).toString(), what);
      }
    }
    return out;
  }
}
