package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launchers run the shaded jar: version on stdout, exit 0; help on stderr. */
class LaunchersIT {
  @Test
  void versionPrintsOnStdout() throws Exception {
    for (String tool : new String[] {"derphole", "derptun"}) {
      Result r = run(Map.of(), tool, "version");
      assertThat(r.exit).isZero();
      assertThat(r.out.strip()).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }
    assertThat(Files.isExecutable(Processes.root().resolve("bin/derper"))).isTrue();
  }

  /**
   * The build made a class archive that matches the jar and this JVM: with {@code -Xshare:on}
   * the JVM refuses to start on an archive it cannot map, so every tool starting proves it is used.
   */
  @Test
  void classArchiveFromTheBuildIsUsable() throws Exception {
    assertThat(Processes.root().resolve("cli/target/derphole.jsa")).isRegularFile();
    for (String[] command : new String[][] {{"derphole", "version"}, {"derptun", "version"}, {"derper", "--version"}}) {
      Result r = run(Map.of("DERPHOLE_JAVA_OPTS", "-Xshare:on"), command);
      assertThat(r.exit).as(String.join(" ", command) + ": " + r.err).isZero();
      assertThat(r.out).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\n");
    }
  }

  /**
   * An archive that does not match its jar (here: both copied elsewhere, so the class path differs)
   * is ignored, and the JVM's complaint about it must not reach stdout, which carries data.
   */
  @Test
  void unusableClassArchiveLeavesOutputClean(@TempDir Path dir) throws Exception {
    Path jar = Files.copy(Processes.root().resolve("cli/target/derphole.jar"), dir.resolve("copy.jar"));
    Files.copy(Processes.root().resolve("cli/target/derphole.jsa"), dir.resolve("copy.jsa"), StandardCopyOption.COPY_ATTRIBUTES);
    Result strict = run(Map.of("DERPHOLE_JAR", jar.toString(), "DERPHOLE_JAVA_OPTS", "-Xshare:on"), "derphole", "version");
    assertThat(strict.exit).as("the copied archive must be unusable for this test to mean anything").isNotZero();

    Result r = run(Map.of("DERPHOLE_JAR", jar.toString(), "DERPHOLE_JAVA_OPTS", ""), "derphole", "version");
    assertThat(r.exit).isZero();
    assertThat(r.out).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\n");
    assertThat(r.err).isEmpty();
  }

  /** JVM logging the user adds through DERPHOLE_JAVA_OPTS goes to stderr, even when it names stdout. */
  @Test
  void jvmLoggingTheUserAddsStaysOffStdout() throws Exception {
    for (String opts : new String[] {"-Xlog:gc", "-verbose:gc", "-Xlog:gc:stdout", "-Xlog:gc::uptime", "-Xlog:gc*=info:stdout:uptime"}) {
      Result r = run(Map.of("DERPHOLE_JAVA_OPTS", opts), "derphole", "version");
      assertThat(r.exit).as(opts + ": " + r.err).isZero();
      assertThat(r.out).as(opts).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\n");
      assertThat(r.err).as(opts).contains("Using Serial");
    }
  }

  @Test
  void aDerpholeJarThatIsNotThereIsOneLineAndNoBuild() throws Exception {
    Result r = run(Map.of("DERPHOLE_JAR", "/nonexistent/derphole.jar"), "derphole", "version");
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.out).isEmpty();
    assertThat(r.err).isEqualTo("derphole: DERPHOLE_JAR names /nonexistent/derphole.jar, which is not a file\n");
  }

  private record Result(int exit, String out, String err) {}

  /** Runs {@code bin/TOOL ARGS} with no stdin and {@code env} over a clean environment. */
  private static Result run(Map<String, String> env, String... command) throws Exception {
    String[] argv = command.clone();
    argv[0] = Processes.bin(command[0]).toString();
    ProcessBuilder pb = new ProcessBuilder(argv);
    Derphole.cleanEnvironment(pb);
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getErrorStream().readAllBytes());
      } catch (java.io.IOException e) {
        return e.toString();
      }
    });
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out, err.get());
  }
}
