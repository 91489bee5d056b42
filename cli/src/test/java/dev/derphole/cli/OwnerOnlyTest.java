package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secret files (derptun's token, derper's key) are 0600 where permissions exist, and are still
 * written where they do not: Windows's file system, here Jimfs configured as Windows.
 */
class OwnerOnlyTest {
  @Test
  void aTokenFileIsOwnerOnlyOnPosix(@TempDir Path dir) throws Exception {
    DerptunTokenCommand.Output out = new DerptunTokenCommand.Output();
    out.file = dir.resolve("token");
    out.write("dtoken");
    assertThat(out.file).hasContent("dtoken");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.file))).isEqualTo("rw-------");
  }

  @Test
  void aTokenFileAndARelayKeyAreWrittenWhereThereAreNoPosixPermissions() throws Exception {
    try (FileSystem windows = Jimfs.newFileSystem(Configuration.windows())) {
      assertThat(windows.supportedFileAttributeViews()).doesNotContain("posix");
      Path dir = Files.createDirectories(windows.getPath("C:\\Users\\me"));
      DerptunTokenCommand.Output out = new DerptunTokenCommand.Output();
      out.file = dir.resolve("token");
      out.write("dtoken");
      assertThat(Files.readString(out.file)).isEqualTo("dtoken\n");

      Path key = dir.resolve("derper.key");
      var created = DerperCommand.loadOrCreateKey(key);
      assertThat(Files.readString(key)).contains("\"PrivateKey\"");
      assertThat(DerperCommand.loadOrCreateKey(key).toText()).isEqualTo(created.toText());
    }
  }
}
