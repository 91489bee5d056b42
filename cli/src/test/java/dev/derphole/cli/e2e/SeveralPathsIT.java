package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.Verdict;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code derphole send PATH PATH...} to {@code derphole receive} as two processes through a real
 * relay: files and directories land side by side, all or nothing, under the rules one path has
 * (no overwrite without --force, -o DIR), and a hostile sender's names are refused or escaped.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class SeveralPathsIT extends SendReceiveDirsIT {
  static final Duration TRANSFER = SendReceiveIT.TRANSFER;
  static final Path NO_INPUT = Path.of("/dev/null");

  /** The receiver's names, hidden temporaries included, without its own stdout/stderr captures. */
  private List<String> received(Path where) throws Exception {
    return Offers.names(where).stream().filter(n -> !n.startsWith("receive.")).toList();
  }

  /** A file, a tree with an empty directory and modes, and a second file in another directory. */
  private void makeThree() throws Exception {
    Files.writeString(from.resolve("a.txt"), "hello\n");
    Path photos = Files.createDirectories(from.resolve("photos/2024"));
    Bytes.randomFile(photos.resolve("x.jpg"), 1_000_003, 3);
    Files.createDirectories(from.resolve("photos/empty"));
    Files.setPosixFilePermissions(from.resolve("photos/2024"), PosixFilePermissions.fromString("rwx--x---"));
    Files.createDirectories(from.resolve("other"));
    Files.writeString(from.resolve("other/b.txt"), "bee\n");
    Files.setPosixFilePermissions(from.resolve("other/b.txt"), PosixFilePermissions.fromString("rw-------"));
  }

  @Test
  void filesAndDirectoriesArriveBesideEachOther() throws Exception {
    makeThree();
    Derphole send = Offers.send(processes, from, relay, NO_INPUT, "a.txt", "photos", "other/b.txt");
    Derphole receive = Offers.receive(processes, to, relay, Offers.token(send));
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    assertThat(send.stderrLines().get(0)).isEqualTo("Sending 3 items, 976.6 KiB: \"a.txt\", \"photos/\" and 1 more");
    assertThat(receive.stderr()).contains("Receiving 3 items, 976.6 KiB: \"a.txt\", \"photos/\" and 1 more into \""
        + to + "/\" (verification code ");
    assertThat(Offers.tree(to.resolve("photos"))).isEqualTo(Offers.tree(from.resolve("photos")));
    assertThat(to.resolve("a.txt")).hasSameBinaryContentAs(from.resolve("a.txt"));
    assertThat(Offers.tree(to.resolve("b.txt"))).isEqualTo(Offers.tree(from.resolve("other/b.txt")));
    assertThat(received(to)).containsExactly("a.txt", "b.txt", "photos");
    assertThat(send.stdout).isEmptyFile();
    assertThat(receive.stdout).isEmptyFile();
  }

  @Test
  void dashOPutsThemInADirectoryAndMustNameOne() throws Exception {
    makeThree();
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    Derphole send = Offers.send(processes, from, relay, NO_INPUT, "a.txt", "photos");
    Derphole receive = Offers.receive(processes, to, relay, Offers.token(send), "-o", inbox.toString());
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    assertThat(received(inbox)).containsExactly("a.txt", "photos");
    assertThat(received(to)).isEmpty();
    processes.close();

    send = Offers.send(processes, from, relay, NO_INPUT, "a.txt", "photos");
    receive = Offers.receive(processes, to, relay, Offers.token(send), "-o", "new-name");
    receive.assertExit(1, TRANSFER);
    send.assertExit(1, TRANSFER);
    assertThat(receive.lastStderrLine()).hasValue("derphole: cannot write to \"new-name\": several items go into a"
        + " directory, and there is no directory of that name");
    assertThat(received(to)).isEmpty();
  }

  @Test
  void duplicateNamesAreRefusedBeforeAnythingIsOffered() throws Exception {
    makeThree();
    Files.writeString(from.resolve("b.txt"), "another bee\n");
    Derphole send = Derphole.start(processes, from, "send", relay.mapFile(), NO_INPUT, "send", "b.txt", "a.txt",
        "other/b.txt");
    send.assertExit(2, TRANSFER);
    assertThat(send.assertOneLineError())
        .isEqualTo("\"b.txt\" and \"other/b.txt\" would both arrive as \"b.txt\"; send them apart, or rename one");
    assertThat(send.stdout).isEmptyFile();
    processes.close();
    // The same path twice, and a path that is not there.
    send = Derphole.start(processes, from, "send2", relay.mapFile(), NO_INPUT, "send", "a.txt", "./a.txt");
    send.assertExit(2, TRANSFER);
    assertThat(send.assertOneLineError()).contains("would both arrive as \"a.txt\"");
    processes.close();
    send = Derphole.start(processes, from, "send3", relay.mapFile(), NO_INPUT, "send", "a.txt", "nope.txt");
    send.assertExit(2, TRANSFER);
    assertThat(send.assertOneLineError()).startsWith("there is no file or directory named \"nope.txt\"");
  }

  @Test
  void oneExistingNameRefusesAllAndLeavesNothingHalfWrittenButForceReplaces() throws Exception {
    makeThree();
    Files.createDirectories(to.resolve("photos/mine"));
    Derphole send = Offers.send(processes, from, relay, NO_INPUT, "a.txt", "photos");
    Derphole receive = Offers.receive(processes, to, relay, Offers.token(send));
    receive.assertExit(1, TRANSFER);
    send.assertExit(1, TRANSFER);
    assertThat(receive.lastStderrLine()).hasValue("derphole: \"" + to.resolve("photos") + "\" already exists;"
        + " not replacing it (use --force to replace it, or -o to choose another name)");
    assertThat(send.lastStderrLine()).hasValue("derphole: the receiver declined: \"photos\" already exists there;"
        + " not replacing it");
    assertThat(received(to)).containsExactly("photos");
    assertThat(received(to.resolve("photos"))).containsExactly("mine");
    processes.close();

    send = Offers.send(processes, from, relay, NO_INPUT, "a.txt", "photos");
    receive = Offers.receive(processes, to, relay, Offers.token(send), "--force");
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    assertThat(received(to)).containsExactly("a.txt", "photos");
    assertThat(Offers.tree(to.resolve("photos"))).isEqualTo(Offers.tree(from.resolve("photos")));
  }

  @Test
  void aKilledSenderLeavesNoItemUnderItsName() throws Exception {
    Bytes.randomFile(from.resolve("first.bin"), 1 << 20, 1);
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(from.resolve("big.bin").toFile(), "rw")) {
      f.setLength(1L << 30); // sparse: cheap to make, slow enough to send that the kill lands mid-way
    }
    Derphole send = Offers.send(processes, from, relay, NO_INPUT, "first.bin", "big.bin");
    Derphole receive = Offers.receive(processes, to, relay, Offers.token(send));
    receive.awaitStderr(java.util.regex.Pattern.compile("Receiving 2 items"));
    // Once some of the body has arrived (the first item whole), kill the sender.
    awaitTemporaryHolding(2 << 20);
    send.process.destroyForcibly();
    receive.assertExit(1, SendReceiveBadInputIT.NOTICE);
    assertThat(received(to)).isEmpty();
  }

  /** Waits until the hidden temporary holds {@code bytes}. */
  private void awaitTemporaryHolding(long bytes) throws Exception {
    long deadline = System.nanoTime() + TRANSFER.toNanos();
    while (System.nanoTime() < deadline) {
      try (var walk = Files.walk(to)) {
        long held = walk.filter(p -> p.toString().contains(".derphole-items-") && Files.isRegularFile(p))
            .mapToLong(p -> p.toFile().length()).sum();
        if (held >= bytes) {
          return;
        }
      }
      Thread.sleep(20); // polls a condition, as Derphole's awaits do
    }
    throw new AssertionError("the temporary never held " + bytes + " bytes: " + Offers.names(to));
  }

  // ---------------------------------------------------------------- a hostile sender

  private static byte[] tar(Map<String, String> entries) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(out, 512, "UTF-8")) {
      t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (Map.Entry<String, String> e : entries.entrySet()) {
        TarArchiveEntry entry = new TarArchiveEntry(e.getKey());
        byte[] data = e.getValue().getBytes(StandardCharsets.UTF_8);
        entry.setSize(data.length);
        t.putArchiveEntry(entry);
        t.write(data);
        t.closeArchiveEntry();
      }
    }
    return out.toByteArray();
  }

  @Test
  void hostileItemNamesAreRefusedEscapedAndNothingLands() throws Exception {
    for (List<String> items : List.of(List.of("ok.txt", "../escape"), List.of("ok.txt", "/etc/passwd"),
        List.of("ok.txt", HostilePeerTextIT.HOSTILE), List.of("ok.txt", "ok.txt/"))) {
      try (RawSender sender = new RawSender(relay)) {
        Derphole receive = Offers.receive(processes, to, relay, sender.token());
        try {
          Verdict v = sender.offer(new OfferHeader(OfferKind.ITEMS, "", 1024, 1, 1, sender.verify(), items));
          assertThat(v.yes()).as("offer of %s", items).isFalse();
        } catch (Exception noVerdict) {
          // the receiver may close before its verdict is read: what counts is below
        }
        receive.assertExit(1, TRANSFER);
        String err = receive.stderr();
        assertThat(err).doesNotContain("\u001b").doesNotContain("\u009b").doesNotContain("\u202e")
            .doesNotContainPattern("(?m)^derphole: forged");
        assertThat(receive.lastStderrLine().orElseThrow()).matches("derphole: the sender (proposed an unsafe name|offered).*");
      }
      processes.close();
      assertThat(received(to)).isEmpty();
    }
  }

  @Test
  void acceptedItemNamesAreShownEscaped() throws Exception {
    String name = "photo\u202egnp.exe"; // a bidi override: a legal file name, shown as "exe.png" raw
    try (RawSender sender = new RawSender(relay)) {
      Derphole receive = Offers.receive(processes, to, relay, sender.token());
      byte[] body = tar(new java.util.TreeMap<>(Map.of(name, "x", "z.txt", "z")));
      assertThat(sender.offer(new OfferHeader(OfferKind.ITEMS, "", body.length, 2, 2, sender.verify(),
          List.of(name, "z.txt"))).yes()).isTrue();
      sender.write(body);
      assertThat(sender.finish(body).yes()).isTrue();
      receive.assertExit(0, TRANSFER);
      assertThat(receive.stderr()).contains("Receiving 2 items, 2 B: \"photo\\u202egnp.exe\" and \"z.txt\" into")
          .doesNotContain("\u202e");
    }
    assertThat(received(to)).containsExactly(name, "z.txt");
  }

  @Test
  void anArchiveHoldingMoreOrOtherThanTheItemsKeepsNothing() throws Exception {
    for (Map<String, String> entries : List.of(
        Map.of("a.txt", "a", "extra.txt", "not offered"),
        Map.of("a.txt", "a", "b/../../escape", "up"),
        Map.of("a.txt", "a"))) {
      try (RawSender sender = new RawSender(relay)) {
        Derphole receive = Offers.receive(processes, to, relay, sender.token());
        byte[] body = tar(new java.util.TreeMap<>(entries));
        List<String> items = entries.size() == 1 ? List.of("a.txt", "b/") : List.of("a.txt");
        assertThat(sender.offer(new OfferHeader(OfferKind.ITEMS, "", body.length, 1, 1, sender.verify(), items)).yes())
            .isTrue();
        sender.write(body);
        Verdict end;
        try {
          end = sender.finish(body);
          assertThat(end.yes()).isFalse();
        } catch (Exception noVerdict) {
          // closed before the verdict was read
        }
        receive.assertExit(1, TRANSFER);
        assertThat(receive.lastStderrLine().orElseThrow()).contains("refusing the archive");
      }
      processes.close();
      assertThat(received(to)).as("after %s", entries).isEmpty();
    }
  }
}
