package dev.derphole.cli.e2e;

import java.nio.file.Path;
import java.util.Map;

/**
 * A command line run verbatim by {@code bash -c}, the way a user types it: {@code bin/} first on
 * {@code PATH} (so {@code derphole}, {@code derptun} and {@code derper} are our launchers),
 * {@code DERPHOLE_DERP_MAP} pointing at the test's relay, the test's directory as working directory
 * and {@code HOME}. stdout and stderr go to {@code dir/NAME.stdout} and {@code dir/NAME.stderr};
 * the result is a {@link Derphole} so tests await its output and exit the same way.
 */
final class Shell {
  private Shell() {}

  static Derphole start(Processes processes, Path dir, String name, Path mapFile, String line) {
    return start(processes, dir, dir, name, mapFile, line, Map.of());
  }

  /**
   * {@code line} in the working directory {@code cwd}, with {@code env} added; output files and
   * {@code HOME} in {@code dir}.
   */
  static Derphole start(Processes processes, Path dir, Path cwd, String name, Path mapFile, String line,
                        Map<String, String> extraEnv) {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", line).directory(cwd.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(dir.resolve(name + ".stdout").toFile())
        .redirectError(dir.resolve(name + ".stderr").toFile());
    Derphole.cleanEnvironment(pb);
    Map<String, String> env = pb.environment();
    env.put("PATH", Processes.root().resolve("bin") + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
    env.put("HOME", dir.toString());
    if (mapFile != null) {
      env.put("DERPHOLE_DERP_MAP", mapFile.toString());
    }
    env.putAll(extraEnv);
    return new Derphole(name, processes.start(pb), dir.resolve(name + ".stdout"), dir.resolve(name + ".stderr"));
  }
}
