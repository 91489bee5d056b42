package dev.derphole.session.offer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.session.SessionException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LandingTest {
  @TempDir Path dir;

  private long entries() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    }
  }

  private static void write(Landing l, String body) throws Exception {
    l.write(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aTemporaryReplacedByALinkIsNeitherWrittenThroughNorKept() throws Exception {
    Path victim = Files.writeString(dir.resolve("victim"), "precious");
    Path target = dir.resolve("a.jpg");
    try (Landing l = Landing.prepare(target, false, 5, false)) {
      Files.delete(l.temp()); // someone else who can write here swaps the name for a link
      Files.createSymbolicLink(l.temp(), victim);
      write(l, "hello");
      assertThatThrownBy(l::commit).isInstanceOf(SessionException.class).hasMessage("the temporary file \""
          + l.temp() + "\" was replaced by something else during the transfer; nothing was kept");
    }
    assertThat(victim).hasContent("precious");
    assertThat(target).doesNotExist();
    assertThat(entries()).as("the link removed, not followed").isEqualTo(1);
  }

  @Test
  void aFileAppearsUnderItsNameOnlyOnCommit() throws Exception {
    Path target = dir.resolve("a.jpg");
    try (Landing l = Landing.prepare(target, false, 5, false)) {
      write(l, "hello");
      assertThat(l.temp().getFileName().toString()).startsWith(".a.jpg.derphole-").endsWith(".part");
      assertThat(target).doesNotExist();
      l.commit();
    }
    assertThat(target).hasContent("hello");
    assertThat(entries()).isEqualTo(1);
  }

  @Test
  void discardLeavesNothing() throws Exception {
    try (Landing l = Landing.prepare(dir.resolve("d"), true, 0, false)) {
      Files.createDirectories(l.temp().resolve("x/y"));
      Files.writeString(l.temp().resolve("x/y/z"), "z");
    }
    assertThat(entries()).isZero();
  }

  @Test
  void anExistingTargetIsRefusedUpFrontWithoutForce() throws Exception {
    Files.writeString(dir.resolve("a.jpg"), "mine");
    assertThatThrownBy(() -> Landing.prepare(dir.resolve("a.jpg"), false, 1, false))
        .hasMessageContaining("a.jpg\" already exists; not replacing it (use --force");
    assertThat(dir.resolve("a.jpg")).hasContent("mine");
  }

  @Test
  void aTargetTakenDuringTheTransferIsNotOverwritten() throws Exception {
    Path target = dir.resolve("a.jpg");
    Landing l = Landing.prepare(target, false, 5, false);
    write(l, "theirs");
    Files.writeString(target, "mine");
    assertThatThrownBy(l::commit).hasMessageContaining("already exists");
    l.close();
    assertThat(target).hasContent("mine");
    assertThat(entries()).isEqualTo(1);
  }

  @Test
  void forceReplacesAFileAndADirectory() throws Exception {
    Files.writeString(dir.resolve("f"), "old");
    try (Landing l = Landing.prepare(dir.resolve("f"), false, 3, true)) {
      write(l, "new");
      l.commit();
    }
    assertThat(dir.resolve("f")).hasContent("new");
    Files.createDirectories(dir.resolve("d/old"));
    try (Landing l = Landing.prepare(dir.resolve("d"), true, 0, true)) {
      Files.createDirectory(l.temp().resolve("new"));
      l.commit();
    }
    assertThat(dir.resolve("d/new")).isDirectory();
    assertThat(dir.resolve("d/old")).doesNotExist();
    assertThat(entries()).isEqualTo(2);
  }

  @Test
  void notEnoughSpaceIsRefusedUpFront() {
    assertThatThrownBy(() -> Landing.prepare(dir.resolve("huge"), false, Long.MAX_VALUE / 2, false))
        .hasMessageContaining("not enough space for \"huge\"");
  }

  @Test
  void outputPathRules() throws Exception {
    assertThat(Landing.target(dir, null, "a")).isEqualTo(dir.resolve("a"));
    Files.createDirectory(dir.resolve("in"));
    assertThat(Landing.target(dir, "in", "a")).isEqualTo(dir.resolve("in/a"));
    assertThat(Landing.target(dir, "renamed.jpg", "a")).isEqualTo(dir.resolve("renamed.jpg"));
    assertThatThrownBy(() -> Landing.target(dir, "missing/x", "a")).hasMessageContaining("its directory does not exist");
  }
}
