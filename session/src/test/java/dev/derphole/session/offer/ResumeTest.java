package dev.derphole.session.offer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.session.SessionException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume at the offer level: a sender and a receiver over pipes, the receiver's partial on a real
 * directory. The record and the wire frames are parsed as hostile, with their bounds.
 */
class ResumeTest {
  static final String VERIFY = "ABCD-EFGH-JKMN";
  static final String ID = "ab".repeat(32);
  @TempDir Path dir;

  /** One connected pair of byte pipes. */
  static final class Link {
    final PipedInputStream toReceiver = new PipedInputStream(1 << 20);
    final PipedInputStream toSender = new PipedInputStream(1 << 16);
    final OutputStream senderOut;
    final OutputStream receiverOut;

    Link() throws IOException {
      senderOut = new PipedOutputStream(toReceiver);
      receiverOut = new PipedOutputStream(toSender);
    }
  }

  private static byte[] data(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Sends {@code body}, cut after {@code cutAfter} bytes (or whole with -1); returns where it started. */
  private CompletableFuture<Long> sender(Link link, OfferHeader header, byte[] body, long cutAfter) {
    AtomicLong start = new AtomicLong(-1);
    return CompletableFuture.supplyAsync(() -> {
      try {
        OfferSender.send(header, out -> {
          if (cutAfter < 0) {
            out.write(body);
          } else {
            out.write(body, 0, (int) cutAfter);
            out.flush();
            link.senderOut.close(); // the connection breaks
            throw new IOException("cut");
          }
        }, link.toSender, link.senderOut, n -> { }, (s, held, size) -> start.set(s));
      } catch (SessionException | IOException e) {
        if (cutAfter < 0) {
          throw new RuntimeException(e);
        }
      }
      return start.get();
    });
  }

  /** Receives into {@code dir/f} with resume; returns the note abandon gave, or "ok". */
  private String receiver(Link link, boolean resume) throws Exception {
    OfferReceiver receiver = new OfferReceiver(link.toReceiver, link.receiverOut);
    OfferHeader header = receiver.readHeader(VERIFY);
    ResumableLanding l = ResumableLanding.prepare(dir.resolve("f"), header, false, resume, notes::add);
    try {
      l.accept(receiver, notes::add);
      l.receive(receiver, n -> { });
      l.commit();
      receiver.confirm("");
      return "ok";
    } catch (SessionException | IOException e) {
      return String.valueOf(l.abandon(resume));
    }
  }

  final List<String> notes = new ArrayList<>();

  private OfferHeader header(byte[] body) {
    return new OfferHeader(OfferKind.FILE, "f", body.length, 1, body.length, VERIFY).withResume(ID);
  }

  @Test
  void aCutTransferKeepsWholeChunksAndTheNextSendsOnlyTheRest() throws Exception {
    byte[] body = data(5 * Partial.CHUNK + 12345, 1);
    Link first = new Link();
    CompletableFuture<Long> s1 = sender(first, header(body), body, 3 * Partial.CHUNK + 500);
    assertThat(receiver(first, true)).isEqualTo("kept 12.0 MiB of 20.0 MiB; run the same send again to resume");
    assertThat(s1.get(30, TimeUnit.SECONDS)).isZero();
    Link second = new Link();
    CompletableFuture<Long> s2 = sender(second, header(body), body, -1);
    assertThat(receiver(second, true)).isEqualTo("ok");
    assertThat(s2.get(30, TimeUnit.SECONDS)).isEqualTo(3L * Partial.CHUNK);
    assertThat(Files.readAllBytes(dir.resolve("f"))).isEqualTo(body);
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("f");
    }
  }

  @Test
  void aTamperedChunkIsCutOffAndSentAgain() throws Exception {
    byte[] body = data(4 * Partial.CHUNK, 2);
    Link first = new Link();
    sender(first, header(body), body, 3 * Partial.CHUNK);
    receiver(first, true);
    Path part;
    try (var s = Files.list(dir)) {
      part = s.filter(p -> p.toString().endsWith(".part")).findFirst().orElseThrow();
    }
    byte[] held = Files.readAllBytes(part);
    held[Partial.CHUNK + 7] ^= 1;
    Files.write(part, held);
    Link second = new Link();
    CompletableFuture<Long> s2 = sender(second, header(body), body, -1);
    assertThat(receiver(second, true)).isEqualTo("ok");
    assertThat(s2.get(30, TimeUnit.SECONDS)).isEqualTo((long) Partial.CHUNK);
    assertThat(notes).anyMatch(n -> n.contains("no longer matches its record after 4.0 MiB"));
    assertThat(Files.readAllBytes(dir.resolve("f"))).isEqualTo(body);
  }

  @Test
  void aNewSenderAndAnOldReceiverInteroperate() throws Exception {
    byte[] body = data(100_000, 3);
    Link link = new Link();
    CompletableFuture<Long> s = sender(link, header(body), body, -1);
    OfferReceiver old = new OfferReceiver(link.toReceiver, link.receiverOut);
    old.readHeader(VERIFY);
    old.accept(); // a plain yes, as a receiver without resume answers
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
    old.receiveBody(in -> in.transferTo(got), n -> { });
    old.confirm("");
    assertThat(s.get(30, TimeUnit.SECONDS)).as("no resume: the listener never heard").isEqualTo(-1);
    assertThat(got.toByteArray()).isEqualTo(body);
  }

  @Test
  void anOldSenderGetsAPlainAnswerAndNoPartialIsKept() throws Exception {
    byte[] body = data(3 * Partial.CHUNK, 4);
    Link link = new Link();
    OfferHeader old = new OfferHeader(OfferKind.FILE, "f", body.length, 1, body.length, VERIFY);
    sender(link, old, body, 2 * Partial.CHUNK);
    assertThat(receiver(link, true)).isEqualTo("null");
    try (var s = Files.list(dir)) {
      assertThat(s.toList()).isEmpty();
    }
  }

  @Test
  void thePartialIsOwnerOnly() throws Exception {
    Partial p = Partial.create(dir, "f", OfferKind.FILE, ID, 10);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p.data()))).isEqualTo("rw-------");
    p.delete();
  }

  @Test
  void aPartialThatIsALinkOrOpenToOthersOrHardLinkedIsNotUsed() throws Exception {
    Path target = Files.writeString(dir.resolve("elsewhere"), "x");
    Path link = Files.createSymbolicLink(dir.resolve(".f.derphole-00000000.resume"), target);
    assertThat(Partial.untrusted(link)).isEqualTo("it is not a regular file");
    Files.delete(link);
    Path open = Files.createFile(dir.resolve(".f.derphole-00000001.resume"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-rw-rw-"));
    assertThat(Partial.untrusted(open)).isEqualTo("others may read or write it");
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-------"));
    assertThat(Partial.untrusted(open)).isNull();
    Files.createLink(dir.resolve("second-name"), open);
    assertThat(Partial.untrusted(open)).isEqualTo("it has other names (hard links)");
  }

  private static byte[] record(long size, int chunk, int kind, int hashes, int torn) {
    ByteBuffer b = ByteBuffer.allocate(PartialMeta.HEADER + hashes * 32 + torn);
    b.put(PartialMeta.MAGIC).put(HexFormat.of().parseHex(ID)).putLong(size).putInt(chunk).put((byte) kind);
    return b.array();
  }

  @Test
  void theRecordIsBoundedAndCheckedFieldByField() {
    long size = 3L * Partial.CHUNK + 1;
    assertThat(PartialMeta.decode(record(size, Partial.CHUNK, 1, 4, 0)).chunks()).hasSize(4);
    assertThat(PartialMeta.decode(record(size, Partial.CHUNK, 2, 2, 31)).chunks()).as("a torn last record is ignored").hasSize(2);
    assertThat(PartialMeta.decode(record(size, Partial.CHUNK, 1, 5, 0))).as("more records than chunks").isNull();
    assertThat(PartialMeta.decode(record(size, 1 << 20, 1, 1, 0))).as("another chunk size").isNull();
    assertThat(PartialMeta.decode(record(size, Partial.CHUNK, 3, 1, 0))).as("unknown kind").isNull();
    assertThat(PartialMeta.decode(record(0, Partial.CHUNK, 1, 0, 0))).as("empty body").isNull();
    assertThat(PartialMeta.decode(record(-1, Partial.CHUNK, 1, 0, 0))).as("negative size").isNull();
    long largest = (long) PartialMeta.MAX_CHUNKS * Partial.CHUNK;
    assertThat(PartialMeta.decode(record(largest, Partial.CHUNK, 1, 0, 0))).isNotNull();
    assertThat(PartialMeta.decode(record(largest + 1, Partial.CHUNK, 1, 0, 0))).as("past the largest resumable body").isNull();
    byte[] longest = record(largest, Partial.CHUNK, 1, PartialMeta.MAX_CHUNKS, 0);
    assertThat(longest.length).isEqualTo(PartialMeta.MAX_LENGTH);
    assertThat(PartialMeta.decode(longest)).isNotNull();
    assertThat(PartialMeta.decode(java.util.Arrays.copyOf(longest, longest.length + 1))).as("past the bound").isNull();
    byte[] magic = record(size, Partial.CHUNK, 1, 0, 0);
    magic[0] = 'X';
    assertThat(PartialMeta.decode(magic)).isNull();
    assertThat(PartialMeta.decode(new byte[10])).isNull();
  }

  @Test
  void aRecordPastTheBoundOnDiskIsNotRead() throws Exception {
    Path meta = dir.resolve(".f.derphole-0000000a.resume");
    Files.write(meta, new byte[(int) PartialMeta.MAX_LENGTH + 1]);
    Files.setPosixFilePermissions(meta, PosixFilePermissions.fromString("rw-------"));
    assertThat(Partial.reopen(meta, ID, OfferKind.FILE, 10)).isEqualTo(new Partial.Found.Unusable("its record is too large"));
  }

  @Test
  void theWireFramesAreChecked() throws Exception {
    byte[] hold = new ResumeWire.Hold(Partial.CHUNK, new byte[32]).encode();
    assertThat(ResumeWire.Hold.readAfterCode(new ByteArrayInputStream(hold, 1, hold.length - 1), 2L * Partial.CHUNK).held())
        .isEqualTo(Partial.CHUNK);
    assertThatThrownBy(() -> ResumeWire.Hold.readAfterCode(new ByteArrayInputStream(hold, 1, hold.length - 1), Partial.CHUNK - 1))
        .isInstanceOf(SessionException.class).hasMessageContaining("malformed resume answer");
    byte[] odd = new ResumeWire.Hold(1000, new byte[32]).encode();
    assertThatThrownBy(() -> ResumeWire.Hold.readAfterCode(new ByteArrayInputStream(odd, 1, odd.length - 1), 5000))
        .hasMessageContaining("malformed resume answer");
    assertThat(ResumeWire.readStart(new ByteArrayInputStream(ResumeWire.encodeStart(0)), 99)).isZero();
    assertThatThrownBy(() -> ResumeWire.readStart(new ByteArrayInputStream(ResumeWire.encodeStart(7)), 99))
        .hasMessageContaining("resume at byte 7, but this side holds 99");
    InputStream cut = new ByteArrayInputStream(new byte[3]);
    assertThatThrownBy(() -> ResumeWire.readStart(cut, 99)).hasMessageContaining("before saying where it resumes");
  }

  @Test
  void theHeaderCarriesTheIdOnlyWellFormed() throws Exception {
    OfferHeader h = new OfferHeader(OfferKind.FILE, "f", 10, 1, 10, VERIFY).withResume(ID);
    assertThat(OfferHeader.readFrom(new ByteArrayInputStream(h.encode())).resume()).isEqualTo(ID);
    String json = new String(h.encode(), 12, h.encode().length - 12, java.nio.charset.StandardCharsets.UTF_8);
    assertThatThrownBy(() -> OfferHeader.decodeJson(json.replace(ID, "AB".repeat(32)).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .hasMessageContaining("\"resume\" is not 64 lowercase hex digits");
  }
}
