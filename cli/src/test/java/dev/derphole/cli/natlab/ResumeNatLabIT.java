package dev.derphole.cli.natlab;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume across the NAT lab (issue #29): a 500 MiB send, and a directory tree of 60 MiB, from
 * host A to host B, its network cut ({@code lab.sh isolate B}: nothing reaches the receiver's site,
 * relay included) twice, at seeded random points of the receiver's partial, the site rejoined after
 * each failure, then the same send again completes. Every attempt after a cut sends about what was missing (QUIC's own count of the
 * bytes the sender sent); the result is byte-identical.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class ResumeNatLabIT {
  static final long SIZE = 500L << 20;
  static final long CHUNK = 4 << 20;
  static final Duration WAIT = Duration.ofSeconds(240);

  @TempDir Path dir;

  @BeforeAll
  static void lab() {
    NatLab.assumeAvailable();
  }

  @Test
  void a500MiBSendCutTwiceByTheNetworkResumesToTheSameBytes() throws Exception {
    Path a = Files.createDirectory(dir.resolve("a"));
    Path b = Files.createDirectory(dir.resolve("b"));
    String want = randomFile(a.resolve("big.bin"), SIZE, 29);
    sendCutTwiceThenComplete(a, b, "big.bin", 2929);
    assertThat(sha256(b.resolve("big.bin"))).isEqualTo(want);
  }

  @Test
  void aDirectoryTreeCutTwiceByTheNetworkResumesToTheSameTree() throws Exception {
    Path a = Files.createDirectory(dir.resolve("a"));
    Path b = Files.createDirectory(dir.resolve("b"));
    Path tree = Files.createDirectories(a.resolve("tree/sub/deeper"));
    Files.createDirectories(a.resolve("tree/empty"));
    String one = randomFile(a.resolve("tree/one.bin"), 24L << 20, 31);
    String two = randomFile(tree.resolve("two.bin"), (20L << 20) + 4093, 32);
    String three = randomFile(a.resolve("tree/sub/three.bin"), 16L << 20, 33);
    Files.writeString(a.resolve("tree/sub/small.txt"), "small\n");
    sendCutTwiceThenComplete(a, b, "tree", 3131);
    assertThat(sha256(b.resolve("tree/one.bin"))).isEqualTo(one);
    assertThat(sha256(b.resolve("tree/sub/deeper/two.bin"))).isEqualTo(two);
    assertThat(sha256(b.resolve("tree/sub/three.bin"))).isEqualTo(three);
    assertThat(b.resolve("tree/sub/small.txt")).hasContent("small\n");
    assertThat(b.resolve("tree/empty")).isEmptyDirectory();
  }

  /**
   * Sends {@code name} from A's {@code a} to B's {@code b}; cuts the network at two seeded random
   * points of the receiver's partial, then lets the third attempt complete. Checks that each
   * attempt after a cut resumed where the partial's verified chunks end, that the last one sent
   * about what was missing, and that {@code b} then holds {@code name} alone.
   */
  private void sendCutTwiceThenComplete(Path a, Path b, String name, long seed) throws Exception {
    Path root = Path.of(System.getProperty("derphole.root", ".")).toAbsolutePath();
    Random random = new Random(seed);
    try (NatLab lab = NatLab.up(NatLab.Kind.EIM_APDF, NatLab.Kind.EIM_APDF)) {
      Path map = dir.resolve("map.json");
      Process relay = lab.exec(NatLab.Node.INET, List.of("sh", "-c", "exec " + root.resolve("bin/derper")
          + " --listen " + NatLab.RELAY + ":8443 --stun-port 3478 --derp-map-out " + map
          + " > " + dir.resolve("relay.out") + " 2> " + dir.resolve("relay.err")));
      LabSession.await("the relay's map", () -> Files.exists(map));
      long held = 0;
      long size = name.equals("big.bin") ? SIZE : -1; // a tree's body is its tar stream: its size is in the record
      for (int attempt = 1; attempt <= 3; attempt++) {
        boolean cut = attempt < 3;
        Process send = lab.exec(NatLab.Node.HOST_A, List.of("sh", "-c", "cd " + a + " && DERPHOLE_DERP_MAP=" + map
            + " exec " + root.resolve("bin/derphole") + " --verbose send --hide-progress " + name
            + " > send" + attempt + ".out 2> send" + attempt + ".err < /dev/null"));
        Path sendErr = a.resolve("send" + attempt + ".err");
        Pattern tokenLine = Pattern.compile("(?m)^derphole receive (\\S+)$");
        LabSession.await("send's token", () -> tokenLine.matcher(read(sendErr)).find());
        Matcher m = tokenLine.matcher(read(sendErr));
        assertThat(m.find()).isTrue();
        Process receive = lab.exec(NatLab.Node.HOST_B, List.of("sh", "-c", "cd " + b + " && DERPHOLE_DERP_MAP=" + map
            + " exec " + root.resolve("bin/derphole") + " --verbose receive --hide-progress " + m.group(1)
            + " > ../receive" + attempt + ".out 2> ../receive" + attempt + ".err"));
        Path receiveErr = dir.resolve("receive" + attempt + ".err");
        if (cut) {
          long total = size > 0 ? size : 60L << 20; // the tree's content; its tar is a little larger
          long point = held + (long) ((total - held) * (0.2 + 0.5 * random.nextDouble()));
          long deadline = System.nanoTime() + WAIT.toNanos();
          while (partialSize(b, name) < point) {
            assertThat(receive.isAlive()).as("receiver alive; stderr:%n%s", read(receiveErr)).isTrue();
            assertThat(System.nanoTime()).as("the partial reaches %d bytes", point).isLessThan(deadline);
            Thread.sleep(5); // polling a file size, not synchronizing on time
          }
          lab.isolate(NatLab.Site.B);
          assertThat(receive.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the receiver gives up").isTrue();
          assertThat(send.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the sender gives up").isTrue();
          lab.rejoin();
          assertThat(receive.exitValue()).isEqualTo(1);
          assertThat(read(receiveErr)).containsPattern("kept \\S+ MiB of \\S+ MiB; run the same send again to resume");
          assertThat(Files.exists(b.resolve(name))).isFalse();
          if (size < 0) {
            size = recordedSize(b);
          }
        } else {
          assertThat(receive.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("receive ends; %s", read(receiveErr)).isTrue();
          assertThat(send.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("send ends; %s", read(sendErr)).isTrue();
          assertThat(receive.exitValue()).as("receive's exit; %s", read(receiveErr)).isZero();
          assertThat(send.exitValue()).as("send's exit; %s", read(sendErr)).isZero();
        }
        if (attempt > 1) {
          Matcher from = Pattern.compile("(?m)^resume-from (\\d+) bytes").matcher(read(sendErr));
          assertThat(from.find()).as("send %d resumed; %s", attempt, read(sendErr)).isTrue();
          long start = Long.parseLong(from.group(1));
          assertThat(start).as("resumed at").isBetween(held - 2 * CHUNK, held);
          if (!cut) {
            Matcher quic = Pattern.compile("(?m)^quic-sent-bytes (\\d+) bytes").matcher(read(sendErr));
            assertThat(quic.find()).isTrue();
            long missing = size - held;
            assertThat(Long.parseLong(quic.group(1))).as("QUIC bytes for %d missing", missing)
                .isLessThanOrEqualTo((long) ((missing + 2 * CHUNK) * 1.1) + (1 << 20));
          }
        }
        held = cut ? partialSize(b, name) / CHUNK * CHUNK : held;
      }
      try (Stream<Path> s = Files.list(b)) {
        assertThat(s.map(p -> p.getFileName().toString())).containsExactly(name);
      }
      relay.destroy();
    }
  }

  /** The body size in the partial's record (offset 40, u64): a directory's exact tar size. */
  private static long recordedSize(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      Path meta = s.filter(p -> p.getFileName().toString().endsWith(".resume")).findFirst().orElseThrow();
      try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(meta.toFile(), "r")) {
        r.seek(40);
        return r.readLong();
      }
    }
  }

  /** The size of the hidden partial data of {@code name} in {@code dir} (a file's, or a tree's tar stream). */
  private static long partialSize(Path dir, String name) throws IOException {
    String prefix = "\\." + Pattern.quote(name) + "\\.derphole-[0-9a-f]{8}(\\.tar)?\\.part";
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches(prefix))
          .mapToLong(p -> p.toFile().length()).max().orElse(0);
    }
  }

  private static String read(Path p) throws IOException {
    return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
  }

  private static String randomFile(Path file, long size, long seed) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    Random random = new Random(seed);
    byte[] chunk = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long left = size; left > 0; ) {
        int n = (int) Math.min(chunk.length, left);
        random.nextBytes(chunk);
        sha.update(chunk, 0, n);
        out.write(chunk, 0, n);
        left -= n;
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static String sha256(Path file) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (var in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 20];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }
}
