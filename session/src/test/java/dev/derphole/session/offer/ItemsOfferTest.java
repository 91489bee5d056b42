package dev.derphole.session.offer;

import static dev.derphole.session.offer.OfferHeaderTest.frame;
import static dev.derphole.session.offer.OfferHeaderTest.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.session.SessionException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several paths in one offer: the header's items, their tar stream, and how they land, all or nothing. */
class ItemsOfferTest {
  @TempDir Path tmp;

  // ---------------------------------------------------------------- header

  @Test
  void goldenItemsFrameAndOtherKindsUnchanged() throws Exception {
    OfferHeader h = new OfferHeader(OfferKind.ITEMS, "", 10240, 2, 6, "7KQ2-MX4A-P9RT", List.of("a.txt", "photos/"));
    String json = "{\"version\":1,\"kind\":\"items\",\"name\":\"\",\"size\":10240,\"files\":2,"
        + "\"content_bytes\":6,\"verify\":\"7KQ2-MX4A-P9RT\",\"items\":[\"a.txt\",\"photos/\"]}";
    assertThat(h.encode()).isEqualTo(frame(json));
    assertThat(read(h.encode())).isEqualTo(h);
    // A single file's header has no "items": the wire format of one path is what it was.
    assertThat(new String(new OfferHeader(OfferKind.FILE, "a", 1, 1, 1, "V").encode(), java.nio.charset.StandardCharsets.UTF_8))
        .doesNotContain("items");
    assertThat(read(frame("{\"version\":1,\"kind\":\"file\",\"name\":\"a\",\"size\":1,\"files\":1,"
        + "\"content_bytes\":1,\"verify\":\"V\",\"items\":[\"../x\"]}")).items()).isEmpty();
  }

  private static byte[] items(String itemsJson) {
    return frame("{\"version\":1,\"kind\":\"items\",\"name\":\"\",\"size\":1,\"files\":1,"
        + "\"content_bytes\":1,\"verify\":\"V\",\"items\":" + itemsJson + "}");
  }

  @Test
  void hostileOrDuplicateItemsAreRefused() {
    for (String bad : new String[] {"[\"../x\"]", "[\"a/b\"]", "[\"/etc/passwd\"]", "[\"..\"]", "[\"./\"]", "[\"/\"]",
        "[\"a//\"]", "[\"\"]", "[\"line\\nbreak\"]", "[\"a\\u0000b\"]"}) {
      assertThatThrownBy(() -> read(items(bad))).as(bad).isInstanceOf(SessionException.class)
          .hasMessageContaining("unsafe name").hasMessageNotContaining("\n");
    }
    assertThatThrownBy(() -> read(items("[\"a\",\"a/\"]"))).hasMessage("the sender offered \"a\" twice; refusing it");
    assertThatThrownBy(() -> read(items("[]"))).hasMessageContaining("\"items\"");
    assertThatThrownBy(() -> read(items("\"a\""))).hasMessageContaining("\"items\"");
    assertThatThrownBy(() -> read(items("[1]"))).hasMessageContaining("not a name");
    StringBuilder many = new StringBuilder("[");
    for (int i = 0; i <= OfferHeader.MAX_ITEMS; i++) {
      many.append(i == 0 ? "" : ",").append('"').append(i).append('"');
    }
    assertThatThrownBy(() -> read(items(many + "]"))).hasMessageContaining("1 to " + OfferHeader.MAX_ITEMS);
    assertThatThrownBy(() -> read(frame("{\"version\":1,\"kind\":\"items\",\"name\":\"x\",\"size\":1,\"files\":1,"
        + "\"content_bytes\":1,\"verify\":\"V\",\"items\":[\"a\"]}"))).hasMessageContaining("a name beside the items");
  }

  // ---------------------------------------------------------------- tar

  @Test
  void filesAndDirectoriesSideBySideHaveAnExactSizeAndExtractAsThemselves() throws Exception {
    Path src = Files.createDirectory(tmp.resolve("src"));
    Files.writeString(src.resolve("a.txt"), "hello\n");
    Path photos = Files.createDirectories(src.resolve("photos/2024"));
    Files.write(photos.resolve("x.jpg"), new byte[70_000]);
    Files.createDirectories(src.resolve("empty"));
    Files.setPosixFilePermissions(src.resolve("a.txt"), PosixFilePermissions.fromString("rw-r-----"));
    DirectoryTar tar = DirectoryTar.planItems(List.of(src.resolve("a.txt"), src.resolve("photos"), src.resolve("empty")));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    tar.writeTo(out);
    assertThat((long) out.size()).isEqualTo(tar.size());
    assertThat(tar.files()).isEqualTo(2);
    assertThat(tar.contentBytes()).isEqualTo(70_006);
    Path into = Files.createDirectory(tmp.resolve("dst"));
    SafeExtractor.extract(new ByteArrayInputStream(out.toByteArray()), into, 0);
    assertThat(Trees.describe(into)).isEqualTo(Trees.describe(src));
  }

  // ---------------------------------------------------------------- landing

  private static byte[] tar(String... names) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(out, 512, "UTF-8")) {
      for (String n : names) {
        TarArchiveEntry e = new TarArchiveEntry(n);
        byte[] data = n.endsWith("/") ? new byte[0] : ("data of " + n).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        e.setSize(data.length);
        t.putArchiveEntry(e);
        t.write(data);
        t.closeArchiveEntry();
      }
    }
    return out.toByteArray();
  }

  private ItemsLanding land(Path dir, List<String> items, boolean force, String... entries) throws Exception {
    ItemsLanding l = ItemsLanding.prepare(dir, items, 100, force);
    SafeExtractor.extract(new ByteArrayInputStream(tar(entries)), l.temp(), 0);
    return l;
  }

  private static List<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void itemsLandBesideEachOtherOnlyAtCommit() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("in"));
    ItemsLanding l = land(dir, List.of("a.txt", "photos/"), false, "a.txt", "photos/", "photos/x.jpg");
    assertThat(names(dir)).hasSize(1).allMatch(n -> n.startsWith(".derphole-items-") && n.endsWith(".part"));
    l.commit();
    assertThat(names(dir)).containsExactly("a.txt", "photos");
    assertThat(dir.resolve("photos/x.jpg")).hasContent("data of photos/x.jpg");
  }

  @Test
  void anExistingNameRefusesTheWholeOfferUnlessForce() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("in"));
    Files.writeString(dir.resolve("b.txt"), "mine");
    assertThatThrownBy(() -> ItemsLanding.prepare(dir, List.of("a.txt", "b.txt"), 1, false))
        .isInstanceOf(Landing.Refused.class).hasMessageContaining("b.txt\" already exists; not replacing it")
        .satisfies(e -> assertThat(((Landing.Refused) e).toSender()).doesNotContain(dir.toString()));
    assertThat(names(dir)).containsExactly("b.txt");
    // Taken between the offer and the commit: still nothing of the offer lands.
    ItemsLanding l = land(dir, List.of("a.txt", "c/"), false, "a.txt", "c/");
    Files.createDirectory(dir.resolve("c"));
    assertThatThrownBy(l::commit).hasMessageContaining("c\" already exists");
    l.discard();
    assertThat(names(dir)).containsExactly("b.txt", "c");
    // With force, the old ones are replaced and nothing is left aside.
    Files.writeString(dir.resolve("c/old"), "old");
    land(dir, List.of("b.txt", "c/"), true, "b.txt", "c/", "c/new").commit();
    assertThat(names(dir)).containsExactly("b.txt", "c");
    assertThat(dir.resolve("b.txt")).hasContent("data of b.txt");
    assertThat(names(dir.resolve("c"))).containsExactly("new");
  }

  @Test
  void aMoveThatFailsHalfWayPutsEverythingBack() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("in"));
    Path b = Files.createDirectory(dir.resolve("b"));
    Files.writeString(b.resolve("theirs"), "theirs");
    ItemsLanding l = land(dir, List.of("a.txt", "b/"), true, "a.txt", "b/", "b/f");
    // The old "b" cannot be moved aside (a file holds that name): a.txt is in place by then.
    Path blocker = Files.writeString(l.temp().resolveSibling(l.temp().getFileName() + ".old"), "in the way");
    assertThatThrownBy(l::commit).hasMessageContaining("nothing was kept");
    l.discard();
    Files.delete(blocker);
    assertThat(names(dir)).containsExactly("b");
    assertThat(names(b)).containsExactly("theirs");
  }

  @Test
  void anArchiveThatDoesNotMatchTheItemsKeepsNothing() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("in"));
    ItemsLanding extra = land(dir, List.of("a.txt"), false, "a.txt", "b.txt");
    assertThatThrownBy(extra::commit).hasMessage("refusing the archive: it holds \"b.txt\", which was not offered; nothing was kept");
    extra.discard();
    ItemsLanding missing = land(dir, List.of("a.txt", "d/"), false, "a.txt");
    assertThatThrownBy(missing::commit).hasMessageContaining("does not hold \"d/\" as offered");
    missing.discard();
    ItemsLanding wrongType = land(dir, List.of("a.txt/"), false, "a.txt");
    assertThatThrownBy(wrongType::commit).hasMessageContaining("does not hold \"a.txt/\" as offered");
    wrongType.discard();
    assertThat(names(dir)).isEmpty();
  }

  @Test
  void outputMustBeAnExistingDirectory() throws Exception {
    Path cwd = Files.createDirectory(tmp.resolve("cwd"));
    Files.createDirectory(cwd.resolve("inbox"));
    assertThat(ItemsLanding.directory(cwd, "inbox")).isEqualTo(cwd.resolve("inbox"));
    assertThat(ItemsLanding.directory(cwd, null)).isEqualTo(cwd);
    assertThatThrownBy(() -> ItemsLanding.directory(cwd, "new-name")).isInstanceOf(Landing.Refused.class)
        .hasMessageContaining("several items go into a directory");
  }
}
