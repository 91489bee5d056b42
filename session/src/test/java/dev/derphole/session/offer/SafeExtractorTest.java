package dev.derphole.session.offer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.session.SessionException;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
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
