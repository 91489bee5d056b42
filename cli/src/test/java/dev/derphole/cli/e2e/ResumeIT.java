package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Resume of {@code send}/{@code receive} (issue #29) as real processes through a real relay: a
 * transfer cut at a seeded random point (sender killed, receiver killed, receiver interrupted) keeps
 * the receiver's partial; the same send again completes it byte for byte, and only about what was
 * missing crosses (QUIC's own count of the bytes it sent, and the offset the sender resumed at). A
 * changed source, a tampered partial and {@code --no-resume} on either side all end in the right
 * bytes, never a mix.
 *
 * <p>"Kill at a point": the test waits until the receiver's hidden partial has passed a byte count,
 * then kills; no sleeps.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class ResumeIT extends RelayedIT {
  static final Duration TRANSFER = Duration.ofSeconds(180);
  static final long CHUNK = 4 << 20;
  /**
   * Eight chunks. The seed puts a first cut at 62 % (19.7 MiB): four whole chunks kept, four to go,
   * and a re-send of everything breaks {@link #assertSentAbout}'s bound (27.4 MiB for 16 missing).
   */
  static final long SIZE = 32L << 20;
  /** What {@code receive} says it kept of a {@link #SIZE} file. */
  static final String KEPT = "kept \\S+ MiB of 32.0 MiB; run the same send again to resume";
  static final Pattern RESUME_FROM = Pattern.compile("(?m)^resume-from (\\d+) bytes");
  static final Pattern QUIC_SENT = Pattern.compile("(?m)^quic-sent-bytes (\\d+) bytes");

  Path from;
  Path to;
  int attempt;
  final Random random = new Random(29);

  @BeforeEach
  void dirs() throws Exception {
    from = Files.createDirectory(dir.resolve("from"));
    to = Files.createDirectory(dir.resolve("to"));
  }

  private Derphole send(String... args) throws Exception {
    String[] all = Stream.concat(Stream.of("--verbose", "send"), Stream.of(args)).toArray(String[]::new);
    return Derphole.start(processes, dir, "send" + ++attempt, relay.mapFile(), Path.of("/dev/null"), all);
  }

  private Derphole receive(Derphole send, String... args) throws Exception {
    String token = Offers.token(send);
    String[] all = Stream.concat(Stream.of("receive", "-o", to.toString()), Stream.concat(Stream.of(args), Stream.of(token)))
        .toArray(String[]::new);
    return Derphole.start(processes, dir, "receive" + attempt, relay.mapFile(), Path.of("/dev/null"), all);
  }

  /** The hidden partial data in {@code to} (file or tar), if there is one. */
  private Path partialData() throws IOException {
    try (Stream<Path> s = Files.list(to)) {
      List<Path> parts = s.filter(p -> p.getFileName().toString().matches("\\..*\\.derphole-[0-9a-f]{8}(\\.tar)?\\.part"))
          .filter(Files::isRegularFile).toList();
      return parts.isEmpty() ? null : parts.get(0);
    }
  }

  private long partialSize() throws IOException {
    Path p = partialData();
    return p == null ? 0 : Files.size(p);
  }

  /** Waits until the receiver's partial holds at least {@code bytes}. */
  private void awaitPartial(Derphole receive, long bytes) throws Exception {
    long deadline = System.nanoTime() + TRANSFER.toNanos();
    while (partialSize() < bytes) {
      assertThat(receive.process.isAlive()).as("receiver alive while waiting for %d bytes:%n%s", bytes, receive.stderr()).isTrue();
      assertThat(System.nanoTime()).as("partial reaches %d bytes", bytes).isLessThan(deadline);
      Thread.sleep(5); // polling a file size, not synchronizing on time
    }
  }

  /** A seeded point between 25 % and 75 % of what is still missing after {@code held}. */
  private long cutPoint(long held, long size) {
    return held + (long) ((size - held) * (0.25 + random.nextDouble() * 0.5));
  }

  /** Runs send+receive to completion; returns the sender's {resume-from, quic-sent-bytes}. */
  private long[] complete(String[] sendArgs, String... receiveArgs) throws Exception {
    Derphole send = send(sendArgs);
    Derphole receive = receive(send, receiveArgs);
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    Matcher from = RESUME_FROM.matcher(send.stderr());
    Matcher quic = QUIC_SENT.matcher(send.stderr());
    assertThat(quic.find()).as("quic-sent-bytes in%n%s", send.stderr()).isTrue();
    return new long[] {from.find() ? Long.parseLong(from.group(1)) : -1, Long.parseLong(quic.group(1)), attempt};
  }

  /** Only about what was missing crossed: the offset, and QUIC's count of what it sent. */
  private static void assertSentAbout(long[] result, long size, long held) {
    long missing = size - held;
    assertThat(result[0]).as("resumed at").isGreaterThanOrEqualTo(held - 2 * CHUNK).isLessThanOrEqualTo(held);
    assertThat(result[1]).as("QUIC bytes sent for %d missing of %d", missing, size)
        .isLessThanOrEqualTo((long) ((missing + 2 * CHUNK) * 1.1) + (1 << 20));
  }

  private Derphole startAndCut(String what, long cut, boolean killSender, String... receiveArgs) throws Exception {
    Derphole send = send(what);
    Derphole receive = receive(send, receiveArgs);
    awaitPartial(receive, cut);
    Derphole killed = killSender ? send : receive;
    killed.process.destroyForcibly();
    killed.exitWithin(TRANSFER);
    Derphole other = killSender ? receive : send;
    assertThat(other.exitWithin(TRANSFER)).as("the other side fails; stderr:%n%s", other.stderr()).isNotZero();
    return receive;
  }

  @Test
  void aFileCutByKillingTheSenderResumesWithOnlyTheRest() throws Exception {
    Path file = Bytes.randomFile(from.resolve("big.bin"), SIZE, 1);
    Derphole receive = startAndCut(file.toString(), cutPoint(0, SIZE), true);
    assertThat(receive.stderr()).containsPattern(KEPT);
    Path partial = partialData();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(partial))).isEqualTo("rw-------");
    assertThat(to.resolve("big.bin")).doesNotExist();
    long held = partialSize();
    assertThat(held % CHUNK).as("kept whole chunks").isZero();
    long[] result = complete(new String[] {file.toString()});
    assertSentAbout(result, SIZE, held);
    assertThat(Bytes.sha256(to.resolve("big.bin"))).isEqualTo(Bytes.sha256(file));
    assertThat(Offers.names(to)).containsOnly("big.bin");
  }

  @Test
  void aFileCutByKillingTheReceiverResumes() throws Exception {
    Path file = Bytes.randomFile(from.resolve("big.bin"), SIZE, 2);
    startAndCut(file.toString(), cutPoint(0, SIZE), false);
    long held = partialSize() / CHUNK * CHUNK; // a killed receiver may have written past its last record
    long[] result = complete(new String[] {file.toString()});
    assertSentAbout(result, SIZE, held);
    assertThat(Bytes.sha256(to.resolve("big.bin"))).isEqualTo(Bytes.sha256(file));
    assertThat(Offers.names(to)).containsOnly("big.bin");
  }

  @Test
  void aDirectoryTreeCutThreeTimesInARowEndsIdentical() throws Exception {
    Path tree = Files.createDirectories(from.resolve("tree"));
    Files.createDirectories(tree.resolve("a/b"));
    Files.createDirectories(tree.resolve("empty"));
    Bytes.randomFile(tree.resolve("one.bin"), 10L << 20, 3);
    Bytes.randomFile(tree.resolve("a/two.bin"), 6L << 20 | 77, 4);
    Bytes.randomFile(tree.resolve("a/b/three.bin"), 14L << 20, 5);
    Files.writeString(tree.resolve("a/b/small.txt"), "small\n");
    Files.setPosixFilePermissions(tree.resolve("a/b/small.txt"), PosixFilePermissions.fromString("rwxr-x---"));
    long size = -1;
    long held = 0;
    for (int cut = 0; cut < 3; cut++) {
      boolean killSender = cut % 2 == 0;
      long point = size < 0 ? (4L << 20) + random.nextInt(12 << 20) : cutPoint(held, size);
      startAndCut(tree.toString(), point, killSender);
      assertThat(to.resolve("tree")).doesNotExist();
      held = partialSize() / CHUNK * CHUNK;
      if (size < 0) {
        size = recordedSize();
      }
    }
    long[] result = complete(new String[] {tree.toString()});
    assertSentAbout(result, size, held);
    assertThat(Offers.tree(to.resolve("tree"))).isEqualTo(Offers.tree(tree));
    assertThat(Offers.names(to)).containsOnly("tree");
  }

  /** The body size in the partial's record (offset 40, u64): a directory's exact tar size. */
  private long recordedSize() throws Exception {
    try (Stream<Path> s = Files.list(to)) {
      Path meta = s.filter(p -> p.getFileName().toString().endsWith(".resume")).findFirst().orElseThrow();
      try (RandomAccessFile r = new RandomAccessFile(meta.toFile(), "r")) {
        r.seek(40);
        return r.readLong();
      }
    }
  }

  @Test
  void aSourceChangedBetweenAttemptsIsSentAfreshNeverMixed() throws Exception {
    Path file = Bytes.randomFile(from.resolve("big.bin"), SIZE, 6);
    startAndCut(file.toString(), cutPoint(0, SIZE), true);
    Bytes.randomFile(file, SIZE, 7); // same size, new content and time
    long[] result = complete(new String[] {file.toString()});
    assertThat(result[0]).as("no resume-from event: the receiver discarded its partial").isEqualTo(0);
    assertThat(Files.readString(dir.resolve("receive" + attempt + ".stderr")))
        .contains("discarded the partial transfer of \"big.bin\" kept earlier: the sender's copy has changed since");
    assertThat(Bytes.sha256(to.resolve("big.bin"))).isEqualTo(Bytes.sha256(file));
  }

  @Test
  void aSourceChangedWithItsTimeKeptIsCaughtByThePrefixHash() throws Exception {
    Path file = Bytes.randomFile(from.resolve("big.bin"), SIZE, 8);
    FileTime time = Files.getLastModifiedTime(file);
    startAndCut(file.toString(), cutPoint(0, SIZE), true);
    try (RandomAccessFile r = new RandomAccessFile(file.toFile(), "rw")) {
      r.seek(12345);
      r.write(~r.read());
    }
    Files.setLastModifiedTime(file, time);
    long[] result = complete(new String[] {file.toString()});
    assertThat(result[0]).isZero();
    assertThat(Files.readString(dir.resolve("send" + attempt + ".stderr"))).contains("but this copy differs from it; sending all of it");
    assertThat(result[1]).as("all of it crossed").isGreaterThan(SIZE);
    assertThat(Bytes.sha256(to.resolve("big.bin"))).isEqualTo(Bytes.sha256(file));
  }

  @Test
  void aTamperedPartialIsDetectedAndReSent() throws Exception {
    Path file = Bytes.randomFile(from.resolve("big.bin"), SIZE, 9);
    startAndCut(file.toString(), 20L << 20, true);
    long held = partialSize();
    long flip = CHUNK * 3 + 1000;
    try (RandomAccessFile r = new RandomAccessFile(partialData().toFile(), "rw")) {
      r.seek(flip);
      r.write(~r.read());
    }
    long[] result = complete(new String[] {file.toString()});
    assertThat(held).isGreaterThan(flip);
    assertThat(result[0]).as("resumed before the damaged chunk").isEqualTo(CHUNK * 3);
    assertThat(Files.readString(dir.resolve("receive" + attempt + ".stderr"))).contains("no longer matches its record after 12.0 MiB");
    assertThat(Bytes.sha256(to.resolve("big.bin"))).isEqualTo(Bytes.sha256(file));
  }

  @Test
  void noResumeOnEitherSideSendsEverything() throws Exception {
    Path file = Bytes.randomFile(from.resolve("big.bin"), SIZE, 10);
    startAndCut(file.toString(), cutPoint(0, SIZE), true);
    long[] receiverOff = complete(new String[] {file.toString()}, "--no-resume");
    assertThat(receiverOff[0]).as("a receiver with --no-resume answers like an old one").isEqualTo(-1);
    assertThat(receiverOff[1]).isGreaterThan(SIZE);
    assertThat(Bytes.sha256(to.resolve("big.bin"))).isEqualTo(Bytes.sha256(file));
    Files.delete(to.resolve("big.bin"));
    try (Stream<Path> s = Files.list(to)) {
      s.forEach(p -> p.toFile().delete()); // the earlier partial, left alone by --no-resume
    }
    startAndCut(file.toString(), cutPoint(0, SIZE), true);
    long[] senderOff = complete(new String[] {"--no-resume", file.toString()});
    assertThat(senderOff[0]).as("a send with --no-resume does not ask").isEqualTo(-1);
    assertThat(senderOff[1]).isGreaterThan(SIZE);
    assertThat(Bytes.sha256(to.resolve("big.bin"))).isEqualTo(Bytes.sha256(file));
  }

  @Test
  void anInterruptedReceiverSaysWhatItKeptAndAWeekOldPartialIsSwept() throws Exception {
    Path file = Bytes.randomFile(from.resolve("big.bin"), SIZE, 11);
    Derphole send = send(file.toString());
    Derphole receive = receive(send);
    awaitPartial(receive, 16L << 20);
    receive.process.destroy(); // SIGTERM: the interrupt hook runs
    receive.exitWithin(TRANSFER);
    send.exitWithin(TRANSFER);
    assertThat(receive.stderr()).containsPattern(KEPT);
    try (Stream<Path> s = Files.list(to)) {
      for (Path p : s.toList()) {
        Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(Duration.ofDays(8))));
      }
    }
    Files.writeString(from.resolve("other.txt"), "other\n");
    complete(new String[] {from.resolve("other.txt").toString()});
    assertThat(Files.readString(dir.resolve("receive" + attempt + ".stderr")))
        .contains("removed the partial transfer of \"big.bin\" kept 8 days ago (partials are kept 7 days)");
    assertThat(Offers.names(to)).containsOnly("other.txt");
  }
}
