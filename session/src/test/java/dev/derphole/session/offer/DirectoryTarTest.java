package dev.derphole.session.offer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryTarTest {
  @TempDir Path tmp;

  /** A tree description: each element is a relative path; "/" at the end makes a directory. */
  record Spec(List<String> paths, List<Integer> sizes, List<String> modes) {}

  @Provide
  Arbitrary<Spec> trees() {
    Arbitrary<String> component = Arbitraries.oneOf(
        Arbitraries.strings().alpha().numeric().withChars(" -_.é漢ß").ofMinLength(1).ofMaxLength(12),
        Arbitraries.strings().alpha().ofLength(120)) // longer than ustar's 100-byte name field
        .filter(c -> !c.equals(".") && !c.equals(".."));
    Arbitrary<String> path = component.list().ofMinSize(1).ofMaxSize(3)
        .map(cs -> String.join("/", cs)).flatMap(p -> Arbitraries.of(p, p + "/"));
    return net.jqwik.api.Combinators.combine(path.list().ofMinSize(0).ofMaxSize(8),
        Arbitraries.of(0, 1, 511, 512, 513, 4096, 70_000).list().ofSize(8),
        Arbitraries.of("rw-r--r--", "rwx------", "r--r-----", "rwxr-xr-x").list().ofSize(8)).as(Spec::new);
  }

  /** Builds the tree; paths that collide with an earlier file are skipped. */
  static void build(Path root, Spec spec) throws Exception {
    Random random = new Random(7);
    for (int i = 0; i < spec.paths().size(); i++) {
      String p = spec.paths().get(i);
      Path target = root.resolve(p);
      try {
        if (p.endsWith("/")) {
          Files.createDirectories(target);
        } else {
          Files.createDirectories(target.getParent());
          byte[] data = new byte[spec.sizes().get(i)];
          random.nextBytes(data);
          Files.write(target, data);
        }
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(
            p.endsWith("/") ? "rwxr-x---" : spec.modes().get(i)));
      } catch (java.nio.file.FileSystemException collision) {
        // a file where a directory should be, or the reverse: leave it out
      }
    }
  }

  @Property(tries = 40)
  void plannedSizeIsExactAndExtractionReproducesTheTree(@ForAll("trees") Spec spec) throws Exception {
    Path base = Files.createTempDirectory("offer-tar"); // jqwik properties get no @TempDir
    try {
      roundTrip(base, spec);
    } finally {
      Landing.deleteTree(base);
    }
  }

  private static void roundTrip(Path base, Spec spec) throws Exception {
    Path root = Files.createDirectory(base.resolve("src"));
    build(root, spec);
    DirectoryTar tar = DirectoryTar.plan(root);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    tar.writeTo(out);
    assertThat((long) out.size()).isEqualTo(tar.size());
    Path into = Files.createDirectory(base.resolve("dst"));
    SafeExtractor.Result r = SafeExtractor.extract(new ByteArrayInputStream(out.toByteArray()), into);
    assertThat(Trees.describe(into)).isEqualTo(Trees.describe(root));
    assertThat(r.files()).isEqualTo(tar.files());
    assertThat(r.bytes()).isEqualTo(tar.contentBytes());
  }

  @Test
  void emptyDirectoriesAndModesSurvive() throws Exception {
    Path root = tmp.resolve("src");
    Files.createDirectories(root.resolve("a/empty"));
    Files.createDirectories(root.resolve("ro"));
    Files.writeString(root.resolve("ro/f"), "x");
    Files.setPosixFilePermissions(root.resolve("ro"), PosixFilePermissions.fromString("r-xr-xr-x"));
    Files.writeString(root.resolve("script"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(root.resolve("script"), PosixFilePermissions.fromString("rwxr-x---"));
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
    DirectoryTar tar = DirectoryTar.plan(root);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    tar.writeTo(out);
    Path into = Files.createDirectories(tmp.resolve("dst"));
    SafeExtractor.extract(new ByteArrayInputStream(out.toByteArray()), into);
    assertThat(Trees.describe(into)).isEqualTo(Trees.describe(root))
        .containsEntry("a/empty", "dir rwxr-xr-x").containsEntry("", "dir rwx------").containsKey("ro/f");
    assertThat(tar.files()).isEqualTo(2);
    Landing.deleteTree(into); // the read-only directory too
    assertThat(into).doesNotExist();
  }

  /**
   * On Windows's file system, which has no POSIX permissions (here Jimfs configured as Windows), a
   * tree still goes and comes back: directories go as 0755 and files as 0644, and the receiving
   * side keeps its own defaults.
   */
  @Test
  void aTreeOnAFileSystemWithoutPosixPermissionsGoesAndComesBack() throws Exception {
    try (java.nio.file.FileSystem windows = com.google.common.jimfs.Jimfs.newFileSystem(
        com.google.common.jimfs.Configuration.windows())) {
      assertThat(windows.supportedFileAttributeViews()).doesNotContain("posix");
      Path root = windows.getPath("C:\\src");
      Files.createDirectories(root.resolve("a").resolve("empty"));
      Files.writeString(root.resolve("a").resolve("f.txt"), "on windows\n");
      Files.write(root.resolve("g.bin"), new byte[70_000]);
      DirectoryTar tar = DirectoryTar.plan(root);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      tar.writeTo(out);
      assertThat((long) out.size()).isEqualTo(tar.size());

      java.util.Map<String, Integer> modes = new java.util.TreeMap<>();
      try (org.apache.commons.compress.archivers.tar.TarArchiveInputStream in =
               new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(new ByteArrayInputStream(out.toByteArray()))) {
        for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
          modes.put(e.getName(), e.getMode() & 07777);
        }
      }
      assertThat(modes).containsEntry("./", 0755).containsEntry("a/", 0755).containsEntry("a/empty/", 0755)
          .containsEntry("a/f.txt", 0644).containsEntry("g.bin", 0644).hasSize(5);

      Path into = Files.createDirectory(windows.getPath("C:\\dst"));
      SafeExtractor.Result r = SafeExtractor.extract(new ByteArrayInputStream(out.toByteArray()), into);
      assertThat(r.files()).isEqualTo(2);
      assertThat(Files.readString(into.resolve("a").resolve("f.txt"))).isEqualTo("on windows\n");
      assertThat(Files.size(into.resolve("g.bin"))).isEqualTo(70_000);
      assertThat(into.resolve("a").resolve("empty")).isDirectory();
    }
  }

  @Test
  void symlinksAreRefusedBeforeAnythingIsSent() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("src/sub"));
    Files.createSymbolicLink(root.resolve("passwd"), Path.of("/etc/passwd"));
    assertThatThrownBy(() -> DirectoryTar.plan(tmp.resolve("src")))
        .hasMessageStartingWith("\"sub/passwd\" is a symbolic link; derphole send does not carry links");
  }

  @Test
  void aFileThatShrankAfterPlanningIsAnError() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("src"));
    Files.write(root.resolve("f"), new byte[5000]);
    DirectoryTar tar = DirectoryTar.plan(root);
    Files.write(root.resolve("f"), new byte[10]);
    assertThatThrownBy(() -> tar.writeTo(new ByteArrayOutputStream())).hasMessageContaining("\"f\" shrank");
  }
}
