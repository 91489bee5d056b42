package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.Verdict;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.Token;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What {@code derphole receive} does with an existing target, a hostile archive, a sender that
 * dies or is interrupted, and a full disk: a one-line error, exit 1, and nothing under the final
 * name — never a half-written file, never a file outside the target.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SendReceiveBadInputIT extends SendReceiveDirsIT {
  static final Duration TRANSFER = SendReceiveIT.TRANSFER;
  /** A sender killed with SIGKILL says nothing: the receiver notices by QUIC's idle timeout (30 s). */
  static final Duration NOTICE = Duration.ofSeconds(60);
  static final Path NO_INPUT = Path.of("/dev/null");

  /** The receiver's files, without its own stdout/stderr captures. */
  private List<String> received() throws IOException {
    return Offers.names(to).stream().filter(n -> !n.startsWith("receive.")).toList();
  }

  // ---------------------------------------------------------------- tokens

  @Test
  void aPipeTokenGivenToReceiveNamesTheCommandItIsFor() throws Exception {
    Token stream = Token.issue(Capability.STREAM, NodePrivateKey.generate().publicKey(), RelayPeer.freshTlsKey(),
        new RelayHint(900, Optional.empty()), Instant.now());
    Derphole receive = Offers.receive(processes, to, relay, stream.encode());
    receive.assertExit(1, TRANSFER);
    assertThat(receive.assertOneLineError()).isEqualTo("this token is for `derphole pipe`, not `derphole receive`");
    assertThat(receive.stdout).isEmptyFile();
  }

  // ---------------------------------------------------------------- existing targets

  @Test
  void anExistingFileIsNotOverwrittenAndBothSidesSayWhy() throws Exception {
    Files.writeString(from.resolve("a.txt"), "theirs");
    Files.writeString(to.resolve("a.txt"), "mine");
    Derphole send = Offers.send(processes, from, relay, NO_INPUT, "a.txt");
    Derphole receive = Offers.receive(processes, to, relay, Offers.token(send));
    receive.assertExit(1, TRANSFER);
    send.assertExit(1, TRANSFER);
    String why = "\"" + to.resolve("a.txt") + "\" already exists; not replacing it (use --force to replace it,"
        + " or -o to choose another name)";
    assertThat(receive.lastStderrLine()).hasValue("derphole: " + why);
    // The sender hears why, without the receiver's directories.
    assertThat(send.lastStderrLine()).hasValue("derphole: the receiver declined: \"a.txt\" already exists there; not replacing it");
    assertThat(send.stderr()).doesNotContain(to.toString());
    assertThat(to.resolve("a.txt")).hasContent("mine");
    assertThat(received()).containsOnly("a.txt");
  }

  @Test
  void anExistingDirectoryIsNotOverwrittenButForceReplacesIt() throws Exception {
    Files.createDirectories(from.resolve("d/new"));
    Files.createDirectories(to.resolve("d/old"));
    Derphole send = Offers.send(processes, from, relay, NO_INPUT, "d");
    Derphole receive = Offers.receive(processes, to, relay, Offers.token(send));
    receive.assertExit(1, TRANSFER);
    send.assertExit(1, TRANSFER);
    assertThat(to.resolve("d/old")).isDirectory();
    processes.close();
    send = Offers.send(processes, from, relay, NO_INPUT, "d");
    receive = Offers.receive(processes, to, relay, Offers.token(send), "--force");
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    assertThat(to.resolve("d/new")).isDirectory();
    assertThat(to.resolve("d/old")).doesNotExist();
    assertThat(received()).containsOnly("d");
  }

  // ---------------------------------------------------------------- hostile archives

  private static byte[] tar(TarArchiveEntry... entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(out, 512, "UTF-8")) {
      for (TarArchiveEntry e : entries) {
        byte[] data = e.isFile() && !e.isSymbolicLink() ? "owned\n".getBytes(StandardCharsets.UTF_8) : new byte[0];
        e.setSize(data.length);
        t.putArchiveEntry(e);
        t.write(data);
        t.closeArchiveEntry();
      }
    }
    return out.toByteArray();
  }

  /** A raw sender offers {@code body} as directory "inbox"; the receiver must refuse with {@code message}. */
  private void archiveIsRefused(byte[] body, String message) throws Exception {
    try (RawSender raw = new RawSender(relay)) {
      Derphole receive = Offers.receive(processes, to, relay, raw.token());
      Verdict accepted = raw.offer(new OfferHeader(OfferKind.DIRECTORY, "inbox", body.length, 1, 6, raw.verify()));
      assertThat(accepted.yes()).as("the header alone is fine").isTrue();
      raw.write(body);
      try {
        raw.finish(body);
      } catch (Exception expected) {
        // the receiver may have closed the connection before the checksum went out
      }
      receive.assertExit(1, TRANSFER);
      assertThat(receive.lastStderrLine()).hasValueSatisfying(l -> assertThat(l).startsWith("derphole: ").contains(message));
      assertThat(receive.stderr()).doesNotContain("Exception").doesNotContain("\tat ");
    }
    assertThat(received()).as("no target, no temporary").isEmpty();
    assertThat(Offers.names(dir)).containsOnly("from", "to");
  }

  @Test
  void anArchiveEntryWithDotDotIsRefused() throws Exception {
    archiveIsRefused(tar(new TarArchiveEntry("ok.txt"), new TarArchiveEntry("../x")),
        "refusing the archive: entry \"../x\" has a \"..\" component");
    assertThat(dir.resolve("x")).doesNotExist();
  }

  @Test
  void anAbsoluteArchiveEntryIsRefused() throws Exception {
    Path target = dir.resolve("abs-target");
    archiveIsRefused(tar(new TarArchiveEntry(target.toString(), true)),
        "refusing the archive: entry \"" + target + "\" is absolute");
    assertThat(target).doesNotExist();
  }

  @Test
  void aSymlinkAndAFileWrittenThroughItAreRefused() throws Exception {
    TarArchiveEntry link = new TarArchiveEntry("escape", TarConstants.LF_SYMLINK);
    link.setLinkName(dir.toString());
    archiveIsRefused(tar(link, new TarArchiveEntry("escape/owned.txt")),
        "refusing the archive: entry \"escape\" is a link to \"" + dir + "\"");
    assertThat(dir.resolve("owned.txt")).doesNotExist();
  }

  @Test
  void aChecksumThatDoesNotMatchKeepsNothing() throws Exception {
    byte[] body = "the real body".getBytes(StandardCharsets.UTF_8);
    try (RawSender raw = new RawSender(relay)) {
      Derphole receive = Offers.receive(processes, to, relay, raw.token());
      assertThat(raw.offer(new OfferHeader(OfferKind.FILE, "f.txt", body.length, 1, body.length, raw.verify())).yes()).isTrue();
      raw.write(body);
      Verdict v = raw.finish("something else".getBytes(StandardCharsets.UTF_8));
      assertThat(v.yes()).isFalse();
      assertThat(v.reason()).isEqualTo("the received data does not match the sender's SHA-256 checksum; nothing was kept");
      receive.assertExit(1, TRANSFER);
    }
    assertThat(received()).isEmpty();
  }

  /**
   * Someone else who can write in the receiving directory swaps the temporary file for a link to
   * their target after it is made and before the body arrives: the body is not written through the
   * link, and the receive fails (its own file is no longer under the temporary name to be renamed).
   */
  @Test
  void aTemporarySwappedForALinkBeforeTheBodyIsNotWrittenThrough() throws Exception {
    Path victim = Files.writeString(dir.resolve("victim.txt"), "precious\n");
    byte[] body = "hostile bytes".getBytes(StandardCharsets.UTF_8);
    try (RawSender raw = new RawSender(relay)) {
      Derphole receive = Offers.receive(processes, to, relay, raw.token());
      assertThat(raw.offer(new OfferHeader(OfferKind.FILE, "f.txt", body.length, 1, body.length, raw.verify())).yes()).isTrue();
      List<String> temps = received();
      assertThat(temps).hasSize(1).allSatisfy(n -> assertThat(n).startsWith(".f.txt.derphole-").endsWith(".part"));
      Path temp = to.resolve(temps.get(0));
      Files.delete(temp);
      Files.createSymbolicLink(temp, victim);
      raw.write(body);
      Verdict v = raw.finish(body);
      String why = "the temporary file \"" + temp + "\" was replaced by something else during the transfer; nothing was kept";
      assertThat(v.yes()).isFalse();
      assertThat(v.reason()).isEqualTo(why);
      receive.assertExit(1, TRANSFER);
      assertThat(receive.lastStderrLine()).hasValue("derphole: " + why);
    }
    assertThat(victim).hasContent("precious\n");
    assertThat(received()).isEmpty();
  }

  // ---------------------------------------------------------------- senders that go away

  /** Starts sending a 1 GiB file (sparse here, real bytes on the wire) and waits until data lands. */
  private Derphole[] transferUnderWay() throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(from.resolve("big.bin").toFile(), "rw")) {
      f.setLength(1L << 30);
    }
    Derphole send = Offers.send(processes, from, relay, NO_INPUT, "big.bin");
    Derphole receive = Offers.receive(processes, to, relay, Offers.token(send));
    receive.awaitStderr(java.util.regex.Pattern.compile("Receiving file"));
    long deadline = System.nanoTime() + Derphole.WAIT.toNanos();
    while (partialBytes() < (1 << 20)) {
      assertThat(System.nanoTime()).as("1 MiB arrives; receiver:%n%s", receive.stderr()).isLessThan(deadline);
      assertThat(receive.process.isAlive()).as("receiver still running:%n%s", receive.stderr()).isTrue();
      Thread.sleep(20); // polling the file system; the receiver does not announce progress off a terminal
    }
    return new Derphole[] {send, receive};
  }

  private long partialBytes() throws IOException {
    long n = 0;
    for (String name : received()) {
      n += Files.size(to.resolve(name));
    }
    return n;
  }

  @Test
  void aKilledSenderLeavesNoFileUnderTheFinalName() throws Exception {
    Derphole[] both = transferUnderWay();
    both[0].process.destroyForcibly();
    both[1].assertExit(1, NOTICE);
    assertThat(both[1].lastStderrLine()).hasValueSatisfying(l -> assertThat(l).startsWith("derphole: "));
    assertThat(both[1].stderr()).doesNotContain("Exception");
    assertThat(received()).as("no big.bin, and the temporary is gone").isEmpty();
  }

  @Test
  void anInterruptedSenderEndsTheReceiverWithAMessage() throws Exception {
    Derphole[] both = transferUnderWay();
    both[0].process.destroy(); // SIGTERM: the shutdown hook runs, as for Ctrl-C
    both[1].assertExit(1, NOTICE);
    assertThat(both[1].lastStderrLine()).hasValue("derphole: the other side was interrupted");
    assertThat(received()).isEmpty();
    both[0].exitWithin(NOTICE);
  }

  @Test
  void anInterruptedReceiverEndsTheSenderWithAMessageAndLeavesNothing() throws Exception {
    Derphole[] both = transferUnderWay();
    both[1].process.destroy();
    both[0].assertExit(1, NOTICE);
    assertThat(both[0].lastStderrLine()).hasValue("derphole: the other side was interrupted");
    both[1].exitWithin(NOTICE);
    assertThat(received()).isEmpty();
  }

  // ---------------------------------------------------------------- a full disk (needs root: mount)

  /** An 8 MiB tmpfs under the test directory; the test is skipped when it cannot be mounted (not root). */
  private Path smallDisk() throws Exception {
    Path mnt = Files.createDirectory(dir.resolve("small"));
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    boolean mounted = p.waitFor() == 0;
    if (!mounted && "true".equals(System.getenv("CI"))) {
      throw new AssertionError("CI runs as root and must be able to mount a tmpfs: " + out);
    }
    assumeThat(mounted).as("mount a tmpfs (needs root): %s", out).isTrue();
    return mnt;
  }

  private static void unmount(Path mnt) throws Exception {
    new ProcessBuilder("umount", mnt.toString()).inheritIO().start().waitFor();
  }

  @Test
  void aFileLargerThanTheFreeSpaceIsRefusedBeforeItIsSent() throws Exception {
    Path mnt = smallDisk();
    try {
      Bytes.randomFile(from.resolve("20m.bin"), 20 << 20, 1);
      Derphole send = Offers.send(processes, from, relay, NO_INPUT, "20m.bin");
      Derphole receive = Offers.receive(processes, to, relay, Offers.token(send), "-o", mnt.toString());
      receive.assertExit(1, TRANSFER);
      send.assertExit(1, TRANSFER);
      assertThat(receive.lastStderrLine()).hasValueSatisfying(l -> assertThat(l)
          .startsWith("derphole: not enough space for \"20m.bin\": 20.0 MiB needed, ").endsWith(" free in " + mnt));
      assertThat(send.lastStderrLine()).hasValueSatisfying(l -> assertThat(l)
          .startsWith("derphole: the receiver declined: not enough space for \"20m.bin\": 20.0 MiB needed, ").endsWith(" free"));
      assertThat(send.stderr()).doesNotContain(mnt.toString());
      assertThat(Offers.names(mnt)).isEmpty();
    } finally {
      unmount(mnt);
    }
  }

  @Test
  void aDiskThatFillsUpDuringTheTransferIsAClearErrorAndThePartialFileIsRemoved() throws Exception {
    Path mnt = smallDisk();
    try {
      byte[] body = new byte[6 << 20];
      new java.util.Random(4).nextBytes(body);
      try (RawSender raw = new RawSender(relay)) {
        Derphole receive = Offers.receive(processes, to, relay, raw.token(), "-o", mnt.toString());
        Verdict accepted = raw.offer(new OfferHeader(OfferKind.FILE, "6m.bin", body.length, 1, body.length, raw.verify()));
        assertThat(accepted.yes()).as("6 MiB fit when the offer came: %s", accepted.reason()).isTrue();
        // Now someone else fills the disk, leaving 1 MiB.
        try (RandomAccessFile filler = new RandomAccessFile(mnt.resolve("filler").toFile(), "rw")) {
          filler.write(new byte[7 << 20]);
        }
        try {
          raw.write(body);
          raw.finish(body);
        } catch (Exception expected) {
          // the receiver gave up and closed the connection
        }
        receive.assertExit(1, TRANSFER);
        assertThat(receive.lastStderrLine()).hasValueSatisfying(l -> assertThat(l)
            .isEqualTo("derphole: no space left on device"));
      }
      assertThat(Offers.names(mnt)).containsOnly("filler");
    } finally {
      unmount(mnt);
    }
  }
}
