package dev.derphole.session.ssh;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.SessionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The public key {@code ssh accept} sends: {@code --key-file}, or the only {@code ~/.ssh/*.pub}. */
public final class PublicKeyFile {
  private PublicKeyFile() {}

  /** {@code keyFile} null: the single {@code *.pub} in {@code sshDir}. */
  public static Path choose(Path sshDir, Path keyFile) throws SessionException {
    if (keyFile != null) {
      return keyFile;
    }
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(sshDir, "*.pub")) {
      ds.forEach(p -> {
        if (Files.isRegularFile(p)) {
          found.add(p);
        }
      });
    } catch (NoSuchFileException e) {
      // no ~/.ssh: none found
    } catch (IOException e) {
      throw new SessionException("cannot list " + sshDir + ": " + Failures.describe(e));
    }
    if (found.isEmpty()) {
      throw new SessionException("no public key found in " + sshDir + " (no *.pub); create one with ssh-keygen"
          + " or pass --key-file");
    }
    if (found.size() > 1) {
      found.sort(null);
      throw new SessionException("several public keys in " + sshDir + " (" + String.join(", ",
          found.stream().map(p -> p.getFileName().toString()).toList()) + "); pass --key-file to choose one");
    }
    return found.get(0);
  }

  public static PublicKeyLine read(Path file) throws SessionException {
    try {
      if (Files.size(file) > PublicKeyLine.MAX_LENGTH + 2) {
        throw new SessionException("it is too large to be a public key");
      }
      return PublicKeyLine.parse(Files.readString(file, StandardCharsets.UTF_8));
    } catch (NoSuchFileException e) {
      throw new SessionException("no such key file: " + file);
    } catch (IOException e) {
      throw new SessionException("cannot read " + file + ": " + Failures.describe(e));
    } catch (SessionException e) {
      throw new SessionException(file + ": " + e.getMessage());
    }
  }
}
