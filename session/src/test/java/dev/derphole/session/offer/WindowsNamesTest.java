package dev.derphole.session.offer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.derphole.session.SessionException;
import java.io.ByteArrayInputStream;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Names a hostile sender may choose that mean more than a file name on Windows (here Jimfs
 * configured as Windows): a received file or archive entry called {@code ..\..\x} would climb out
 * of the target directory, {@code CON} would be the console, {@code a:b} a stream. All are
 * refused before anything is written; on Linux the same names are plain names.
 */
class WindowsNamesTest {
  FileSystem windows;
  Path cwd;

  @BeforeEach
  void fs() throws Exception {
    windows = Jimfs.newFileSystem(Configuration.windows());
    cwd = Files.createDirectories(windows.getPath("C:\\Users\\me\\Downloads"));
  }

  @AfterEach
  void close() throws Exception {
    windows.close();
  }

  @Test
  void aReceivedFilesNameMustBeOnePlainWindowsName() throws Exception {
    for (String[] bad : new String[][] {
        {"..\\..\\AppData\\evil.bat", "has a \"\\\""}, {"C:evil", "has a \":\""}, {"a:stream", "has a \":\""},
        {"CON", "is a Windows device name"}, {"nul.txt", "is a Windows device name"}, {"Com1 .log", "is a Windows device name"},
        {"LPT¹", "is a Windows device name"}, {"what?", "has a \"?\""}, {"name.", "ends with a dot or a space"},
        {"name ", "ends with a dot or a space"}, {"a|b", "has a \"|\""}}) {
      assertThatThrownBy(() -> Landing.target(cwd, null, bad[0])).as(bad[0]).isInstanceOf(SessionException.class)
          .hasMessage("the sender proposed the name " + OfferHeader.quote(bad[0]) + ": it " + bad[1]
              + (bad[1].startsWith("has a") ? " (not allowed in a Windows name)" : bad[1].startsWith("ends") ? " (Windows drops them)" : "")
              + "; refusing it");
    }
    assertThat(Landing.target(cwd, null, "console.log")).isEqualTo(cwd.resolve("console.log"));
    assertThat(Landing.target(cwd, null, "CONTRACT.pdf")).isEqualTo(cwd.resolve("CONTRACT.pdf"));
    assertThat(Landing.target(cwd, null, ".hidden")).isEqualTo(cwd.resolve(".hidden"));
  }

  @Test
  void onLinuxTheSameNamesArePlainNames(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    for (String name : new String[] {"CON", "a:stream", "back\\slash", "name."}) {
      assertThat(Landing.target(dir, null, name)).isEqualTo(dir.resolve(name).toAbsolutePath().normalize());
    }
  }

  @Test
  void anArchiveEntryThatIsNoPlainWindowsNameIsRefusedAndNothingLandsOutside() throws Exception {
    Path into = Files.createDirectories(cwd.resolve(".tree.part"));
    for (String[] bad : new String[][] {
        {"a\\..\\..\\..\\evil.bat", "has a \"\\\""}, {"sub/CON", "is a Windows device name"},
        {"sub/aux.c", "is a Windows device name"}, {"x:y", "has a \":\""}, {"dir./f", "ends with a dot or a space"}}) {
      assertThatThrownBy(() -> SafeExtractor.extract(new ByteArrayInputStream(MaliciousTars.file(bad[0], "owned")), into))
          .as(bad[0]).isInstanceOf(SessionException.class)
          .hasMessageStartingWith("refusing the archive: entry " + OfferHeader.quote(bad[0]) + " " + bad[1]);
    }
    try (Stream<Path> all = Files.walk(windows.getPath("C:\\"))) {
      assertThat(all.filter(Files::isRegularFile)).as("files anywhere").isEmpty();
    }
    SafeExtractor.extract(new ByteArrayInputStream(MaliciousTars.file("sub/report.txt", "fine")), into);
    assertThat(Files.readString(into.resolve("sub").resolve("report.txt"))).isEqualTo("fine");
  }
}
