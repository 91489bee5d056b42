package dev.derphole.cli.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Helpers for {@code derphole send} / {@code receive} tests. */
final class Offers {
  /** The receive command {@code derphole send} prints after "On the other machine, run:". */
  static final Pattern RECEIVE_LINE = Pattern.compile("(?m)^On the other machine, run:\\R^derphole receive (\\S+)\\R");

  private Offers() {}

  /** Starts {@code derphole send ARGS} in {@code dir} and returns it once it has printed its token. */
  static Derphole send(Processes processes, Path dir, Relay relay, Path stdin, String... args) {
    List<String> all = new ArrayList<>(List.of("send"));
    all.addAll(List.of(args));
    return Derphole.start(processes, dir, "send", relay.mapFile(), stdin, all.toArray(String[]::new));
  }

  static String token(Derphole send) throws InterruptedException {
    return send.awaitStderr(RECEIVE_LINE).group(1);
  }

  /** {@code derphole receive TOKEN ARGS} in {@code dir}, stdin from /dev/null. */
  static Derphole receive(Processes processes, Path dir, Relay relay, String token, String... args) {
    List<String> all = new ArrayList<>(List.of("receive", token));
    all.addAll(List.of(args));
    return Derphole.start(processes, dir, "receive", relay.mapFile(), Path.of("/dev/null"), all.toArray(String[]::new));
  }

  /** {@code root} (as "") and every path under it, with its type, permission bits and, for files, SHA-256. */
  static Map<String, String> tree(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
        out.put(root.relativize(p).toString(), Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir " + mode
            : "file " + mode + " " + Bytes.sha256(p));
      }
    }
    return out;
  }

  /** The names in {@code dir}, hidden temporaries included. */
  static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
