package dev.derphole.session.offer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.session.SessionException;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Archives that try to escape the target directory are refused, and nothing lands outside it. */
class SafeExtractorTest {
  @TempDir Path tmp;
  Path into;

  @BeforeEach
  void target() throws Exception {
    into = Files.createDirectories(tmp.resolve("inbox/.target.part"));
  }

  private void refuses(byte[] tar, String message) throws Exception {
    assertThatThrownBy(() -> SafeExtractor.extract(new ByteArrayInputStream(tar), into))
        .isInstanceOf(SessionException.class).hasMessageContaining(message);
    // Nothing outside the extraction directory, whatever the archive tried.
    try (Stream<Path> all = Files.walk(tmp)) {
      assertThat(all.filter(p -> !p.startsWith(into)).map(tmp::relativize).map(Path::toString))
          .containsOnly("", "inbox");
    }
  }

  /** A tar asking for {@code 0777} directories (the top one too), a {@code 0666} file and a setuid {@code 04777} one. */
  private static byte[] wideOpen() throws Exception {
    return MaliciousTars.build(t -> {
      for (String[] e : new String[][] {{"./", "777"}, {"open/", "777"}, {"open/f", "666"}, {"x", "4777"}}) {
        TarArchiveEntry entry = new TarArchiveEntry(e[0], true);
        entry.setMode((e[0].endsWith("/") ? TarArchiveEntry.DEFAULT_DIR_MODE & ~0777 : TarArchiveEntry.DEFAULT_FILE_MODE & ~0777)
            | Integer.parseInt(e[1], 8));
        MaliciousTars.add(t, entry, e[0].endsWith("/") ? null : "data");
      }
    });
  }

  private Map<String, String> modes() throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> all = Files.walk(into)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        out.put(into.relativize(p).toString(), PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
      }
    }
    return out;
  }

  @Test
  void theSendersModesAreFilteredThroughTheReceiversUmask() throws Exception {
    SafeExtractor.extract(new ByteArrayInputStream(wideOpen()), into, 027);
    assertThat(modes()).isEqualTo(Map.of("", "rwxr-x---", "open", "rwxr-x---", "open/f", "rw-r-----", "x", "rwxr-x---"));
    Landing.deleteTree(into);
    Files.createDirectory(into);
    SafeExtractor.extract(new ByteArrayInputStream(wideOpen()), into, 0);
    assertThat(modes()).as("umask 0: as asked, less setuid")
        .isEqualTo(Map.of("", "rwxrwxrwx", "open", "rwxrwxrwx", "open/f", "rw-rw-rw-", "x", "rwxrwxrwx"));
  }

  @Test
  void parentComponentsAreRefused() throws Exception {
    refuses(MaliciousTars.file("../x", "escaped"), "entry \"../x\" has a \"..\" component");
    refuses(MaliciousTars.file("a/../../x", "escaped"), "\"..\" component");
  }

  @Test
  void absoluteNamesAreRefused() throws Exception {
    refuses(MaliciousTars.file("/etc/x", "escaped"), "entry \"/etc/x\" is absolute");
  }

  @Test
  void symlinksAreRefusedSoNothingIsWrittenThroughThem() throws Exception {
    refuses(MaliciousTars.symlinkThenFile("link", tmp.toString(), "link/owned"), "entry \"link\" is a link to");
    assertThat(tmp.resolve("owned")).doesNotExist();
  }

  @Test
  void hardLinksAndDuplicatesAreRefused() throws Exception {
    refuses(MaliciousTars.hardLink("h", "/etc/passwd"), "entry \"h\" is a link to \"/etc/passwd\"");
    Files.createDirectories(into); // a fresh start after the refusal
    refuses(MaliciousTars.duplicate("twice"), "entry \"twice\" appears twice");
  }

  @Test
  void dotAndEmptyComponentsAreRefused() throws Exception {
    refuses(MaliciousTars.file("./a", "x"), "\".\" component");
    refuses(MaliciousTars.file("a//b", "x"), "\"\" component");
  }

  @Test
  void plainFilesWithoutDirectoryEntriesGetTheirParentsMade() throws Exception {
    SafeExtractor.Result r = SafeExtractor.extract(new ByteArrayInputStream(MaliciousTars.file("a/b/c.txt", "hi")), into);
    assertThat(into.resolve("a/b/c.txt")).hasContent("hi");
    assertThat(r.files()).isEqualTo(1);
  }
}
