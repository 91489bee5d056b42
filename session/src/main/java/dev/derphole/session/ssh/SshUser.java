package dev.derphole.session.ssh;

import dev.derphole.session.SessionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The account an invite grants access to: its home directory (where {@code .ssh/authorized_keys}
 * lives) and, for {@code --user}, its uid and gid so the files end up owned by it. Users are looked
 * up with {@code getent passwd} (so NSS sources count), falling back to {@code /etc/passwd}.
 *
 * <p>{@value #HOME_ENV} overrides the home directory, for {@code ssh invite} (where keys are added)
 * and {@code ssh accept} (where {@code .ssh/*.pub} is looked for). It exists for tests, which run as
 * root and must not touch root's real {@code authorized_keys} or keys.
 */
public record SshUser(String name, Path home, AuthorizedKeys.Owner owner) {
  public static final String HOME_ENV = "DERPHOLE_SSH_HOME";

  /** {@code user} null: the user running derphole. */
  public static SshUser resolve(String user, Map<String, String> env) throws SessionException {
    String override = env.get(HOME_ENV);
    if (user == null) {
      String me = System.getProperty("user.name");
      Path home = override != null && !override.isBlank() ? Path.of(override) : Path.of(System.getProperty("user.home"));
      return new SshUser(me, home, null);
    }
    String[] entry = passwd(user);
    if (entry == null) {
      throw new SessionException("no such user: " + user);
    }
    AuthorizedKeys.Owner owner;
    try {
      owner = new AuthorizedKeys.Owner(Integer.parseInt(entry[2]), Integer.parseInt(entry[3]));
    } catch (NumberFormatException e) {
      throw new SessionException("cannot read the account of " + user + " (uid/gid " + entry[2] + "/" + entry[3] + ")");
    }
    Path home = override != null && !override.isBlank() ? Path.of(override) : Path.of(entry[5]);
    return new SshUser(user, home, owner);
  }

  /** The passwd fields (name, x, uid, gid, gecos, home, shell), or null. */
  static String[] passwd(String user) throws SessionException {
    if (user.isEmpty() || user.contains(":") || user.contains("\n")) {
      return null;
    }
    try {
      Process p = new ProcessBuilder("getent", "passwd", user).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.waitFor() == 0) {
        String[] f = out.split(":", -1);
        return f.length >= 7 ? f : null;
      }
      if (p.exitValue() == 2) {
        return null; // getent: key not found
      }
    } catch (IOException e) {
      // no getent: read the file
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SessionException("interrupted");
    }
    try {
      for (String line : Files.readAllLines(Path.of("/etc/passwd"), StandardCharsets.UTF_8)) {
        String[] f = line.split(":", -1);
        if (f.length >= 7 && f[0].equals(user)) {
          return f;
        }
      }
    } catch (IOException e) {
      throw new SessionException("cannot look up user " + user + ": " + e.getMessage());
    }
    return null;
  }
}
