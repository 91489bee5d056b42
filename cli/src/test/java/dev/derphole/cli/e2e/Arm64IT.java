package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One end on an arm64 JVM, the other on this machine's x86-64 one ({@code bin/derphole}): the
 * arm64 end is the linux-arm64 bundle of {@code dist/bundle.sh}, its launcher run as a user runs
 * it, its runtime's arm64 code emulated by qemu-user (registered with binfmt_misc) over an arm64
 * libc (the sysroot of {@code dist/arm64.sh}). listen/pipe both ways, over the relay alone and
 * direct on loopback; send/receive of a directory; share/open with curl. Kept few and small:
 * emulation is slow.
 *
 * <p>Needs the bundle ({@code mvn -Pdist}) and {@code dist/arm64.sh setup} (root,
 * qemu-user-static): without either it is skipped with the reason, but under {@code CI=true} it
 * fails, since {@code .ci/run} provides both.
 */
class Arm64IT extends RelayedIT {
  /** An emulated JVM takes many times as long to start and to move bytes. */
  static final Duration EMULATED = Duration.ofMinutes(4);
  static final Pattern LISTEN_TOKEN = Pattern.compile("(?m)^On the other machine, run:\\R^derphole pipe (\\S+)\\R");
  static final Pattern OPEN_TOKEN = Pattern.compile("(?m)^On the other machine, run:\\R^derphole open (\\S+)\\R");
  static final Pattern LISTENING = Pattern.compile("(?m)^listening on 127\\.0\\.0\\.1:(\\d+)$");
  static final Pattern DIRECT = Pattern.compile("(?m)^connected-direct ");

  static Path bundle;
  static String sysroot;
  /**
   * A relay without TLS, for both ends: the emulated end's TLS handshake with the relay, on a busy
   * two-core machine, often outran the client's 15 s deadline for reaching it (TLS itself is
   * covered natively, by every other end-to-end test and dist/install-test.sh on the bundle).
   */
  static Relay plainRelay;

  @BeforeAll
  static void arm64Bundle(@TempDir Path unpacked) throws Exception {
    Path target = Processes.root().resolve("dist/target");
    Path tarball = null;
    if (Files.isDirectory(target)) {
      try (Stream<Path> s = Files.list(target)) {
        tarball = s.filter(p -> p.getFileName().toString().matches("derphole-.+-linux-arm64\\.tar\\.gz"))
            .findFirst().orElse(null);
      }
    }
    String why = null;
    if (tarball == null) {
      why = "no dist/target/derphole-*-linux-arm64.tar.gz (mvn -B package -Pdist builds it)";
    } else if (run(unpacked, "dist/arm64.sh", "check") != 0) {
      why = "arm64 programs do not run here (dist/arm64.sh setup, as root, with qemu-user-static)";
    }
    if (why == null) {
      plainRelay = Relay.start(shared, unpacked.resolve("plain-relay"), true);
    }
    if (why != null) {
      if ("true".equals(System.getenv("CI"))) {
        fail(why + " (CI=true, and .ci/run builds the bundle and sets up qemu-user)");
      }
      Assumptions.abort(why);
    }
    assertThat(run(unpacked, "dist/arm64.sh", "setup")).isEqualTo(0);
    sysroot = Files.readString(unpacked.resolve("dist_arm64.sh.stdout")).strip();
    assertThat(new ProcessBuilder("tar", "-xzf", tarball.toString(), "-C", unpacked.toString())
        .inheritIO().start().waitFor()).isEqualTo(0);
    try (Stream<Path> s = Files.list(unpacked)) {
      bundle = s.filter(p -> p.getFileName().toString().endsWith("-linux-arm64")).findFirst().orElseThrow();
    }
  }

  /** Runs a repository script; its stdout goes to {@code dir/<script with _>.stdout}. */
  private static int run(Path dir, String... cmd) throws Exception {
    List<String> c = new ArrayList<>(List.of(cmd));
    c.set(0, Processes.root().resolve(cmd[0]).toString());
    Process p = new ProcessBuilder(c)
        .redirectOutput(dir.resolve(cmd[0].replace('/', '_') + ".stdout").toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }

  /** The bundle's {@code bin/derphole ARGS} on arm64: stdin from a file, or a pipe when null. */
  private Derphole arm(String name, Path stdinFile, String... args) {
    return arm(dir, name, stdinFile, args);
  }

  /** The same, in the working directory {@code cwd}, on NIO. */
  private Derphole arm(Path cwd, String name, Path stdinFile, String... args) {
    return arm(cwd, "nio", name, stdinFile, args);
  }

  /** The same, with {@code -Dderphole.transport=TRANSPORT}. */
  private Derphole arm(Path cwd, String transport, String name, Path stdinFile, String... args) {
    List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT", bundle.resolve("bin/derphole").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile())
        .redirectError(dir.resolve(name + ".stderr").toFile());
    Derphole.cleanEnvironment(pb);
    pb.environment().put("DERPHOLE_DERP_MAP", plainRelay.mapFile().toString());
    pb.environment().put("QEMU_LD_PREFIX", sysroot);
    // C1 alone, an accommodation of emulation for these tests only (the bundle does not ship it):
    // C2's compilations, CPU-emulated, kept an emulated JVM on a busy two-core machine past the
    // relay's 10 s handshake deadline (measured: missed with C2, made with C1 only).
    // NIO for most tests, as a user of a platform without epoll has it; epoll (auto) for one:
    // qemu-user does not emulate a socket option Netty's recvmmsg asks for, so that test also
    // covers the fall back to one datagram per read.
    pb.environment().put("DERPHOLE_JAVA_OPTS", "-XX:TieredStopAtLevel=1 -Dderphole.transport=" + transport);
    Path out = dir.resolve(name + ".stdout");
    pb.redirectOutput(out.toFile());
    pb.redirectInput(stdinFile != null
        ? ProcessBuilder.Redirect.from(stdinFile.toFile()) : ProcessBuilder.Redirect.PIPE);
    return new Derphole(name, processes.start(pb), out, dir.resolve(name + ".stderr"));
  }

  private Derphole host(String name, Path stdinFile, String... args) {
    return Derphole.start(processes, dir, name, plainRelay.mapFile(), stdinFile, args);
  }

  /** Like {@link Derphole#awaitStderr}, with the time an emulated JVM needs. */
  private static Matcher await(Derphole d, Pattern pattern) throws InterruptedException {
    long deadline = System.nanoTime() + EMULATED.toNanos();
    while (true) {
      Matcher m = pattern.matcher(d.stderr());
      if (m.find()) {
        return m;
      }
      if (!d.process.isAlive()) {
        fail("%s exited with %d before printing %s; stderr:%n%s", d.name, d.process.exitValue(), pattern, d.stderr());
      }
      if (System.nanoTime() > deadline) {
        fail("%s: no %s within %s; stderr:%n%s", d.name, pattern, EMULATED, d.stderr());
      }
      Thread.sleep(50);
    }
  }

  @Test
  void theArm64EndIsAnArm64Jvm() throws Exception {
    byte[] elf = Files.readAllBytes(bundle.resolve("runtime/bin/java"));
    assertThat(elf[18] & 0xff | (elf[19] & 0xff) << 8).as("ELF e_machine of runtime/bin/java: EM_AARCH64").isEqualTo(183);
    ProcessBuilder pb = new ProcessBuilder(bundle.resolve("runtime/bin/java").toString(),
        "-XshowSettings:properties", "-version").redirectErrorStream(true)
        .redirectOutput(dir.resolve("java.out").toFile());
    pb.environment().put("QEMU_LD_PREFIX", sysroot);
    Process p = processes.start(pb);
    assertThat(p.waitFor(EMULATED.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    assertThat(Files.readString(dir.resolve("java.out"))).contains("os.arch = aarch64");
  }

  @Test
  void arm64ListensAndTheHostPipesOverTheRelayAlone() throws Exception {
    Path input = Bytes.randomFile(dir.resolve("in.bin"), 4L << 20, 41);
    Derphole listen = arm("listen", Path.of("/dev/null"), "--verbose", "listen", "--force-relay");
    String token = await(listen, LISTEN_TOKEN).group(1);
    Derphole pipe = host("pipe", input, "--verbose", "pipe", "--force-relay", token);
    pipe.assertExit(0, EMULATED);
    listen.assertExit(0, EMULATED);
    assertThat(Bytes.sha256(listen.stdout)).isEqualTo(Bytes.sha256(input));
    assertThat(listen.stderr()).doesNotContain("connected-direct");
    assertThat(pipe.stderr()).doesNotContain("connected-direct");
  }

  @ParameterizedTest(name = "arm64 on {0}")
  @ValueSource(strings = {"nio", "auto"})
  void theHostListensAndArm64PipesDirect(String transport) throws Exception {
    Path first = Bytes.randomFile(dir.resolve("first.bin"), 1L << 20, 42);
    Path rest = Bytes.randomFile(dir.resolve("rest.bin"), 3L << 20, 43);
    Derphole listen = host("listen", Path.of("/dev/null"), "--verbose", "listen");
    String token = listen.awaitToken();
    Derphole pipe = arm(dir, transport, "pipe", null, "--verbose", "pipe", token);
    // A first MiB, then the rest only once both ends are on the direct path: the bytes after it
    // cross direct UDP between the two architectures.
    try (OutputStream in = pipe.stdin()) {
      in.write(Files.readAllBytes(first));
      in.flush();
      await(pipe, DIRECT);
      await(listen, DIRECT);
      in.write(Files.readAllBytes(rest));
    } catch (IOException e) {
      fail("pipe took no more input (%s); its stderr:%n%s", e.getMessage(), pipe.stderr());
    }
    pipe.assertExit(0, EMULATED);
    listen.assertExit(0, EMULATED);
    byte[] got = Files.readAllBytes(listen.stdout);
    byte[] want = new byte[(int) (Files.size(first) + Files.size(rest))];
    System.arraycopy(Files.readAllBytes(first), 0, want, 0, (int) Files.size(first));
    System.arraycopy(Files.readAllBytes(rest), 0, want, (int) Files.size(first), (int) Files.size(rest));
    assertThat(Bytes.sha256(got)).isEqualTo(Bytes.sha256(want));
    assertThat(pipe.stderrLines()).as("the event loop the emulated end ran on")
        .anyMatch(l -> l.startsWith(transport.equals("nio") ? "io nio" : "io epoll"));
    assertThat(pipe.stderr()).as("no stack trace from a failed read").doesNotContain("Exception");
  }

  @Test
  void arm64SendsADirectoryTheHostReceivesIt() throws Exception {
    Path from = Files.createDirectories(dir.resolve("from"));
    Path tree = Files.createDirectories(from.resolve("tree/sub/deeper"));
    Files.writeString(from.resolve("tree/a.txt"), "alpha\n");
    Files.writeString(from.resolve("tree/sub/ünï.txt"), "unicode name\n");
    Bytes.randomFile(tree.resolve("blob.bin"), 1L << 20, 44);
    Files.createDirectories(from.resolve("tree/empty"));
    Path to = Files.createDirectories(dir.resolve("to"));
    Derphole send = arm(from, "send", Path.of("/dev/null"), "send", "--hide-progress", "tree");
    String token = await(send, Offers.RECEIVE_LINE).group(1);
    Derphole receive = Offers.receive(processes, to, plainRelay, token, "--hide-progress");
    receive.assertExit(0, EMULATED);
    send.assertExit(0, EMULATED);
    assertThat(Offers.tree(to.resolve("tree"))).isEqualTo(Offers.tree(from.resolve("tree")));
  }

  @Test
  void arm64SharesAnHttpServerTheHostOpensItForCurl() throws Exception {
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    byte[] page = "hello from the host, through arm64\n".getBytes(StandardCharsets.UTF_8);
    http.createContext("/hello", ex -> {
      ex.sendResponseHeaders(200, page.length);
      try (OutputStream body = ex.getResponseBody()) {
        body.write(page);
      }
    });
    http.start();
    try {
      Derphole share = arm("share", Path.of("/dev/null"), "share", String.valueOf(http.getAddress().getPort()));
      String token = await(share, OPEN_TOKEN).group(1);
      Derphole open = host("open", Path.of("/dev/null"), "open", token);
      int port = Integer.parseInt(await(open, LISTENING).group(1));
      Path got = dir.resolve("page.out");
      Process curl = processes.start(new ProcessBuilder("curl", "-sS", "--max-time", "120", "-o", got.toString(),
          "http://127.0.0.1:" + port + "/hello").redirectErrorStream(true).redirectOutput(dir.resolve("curl.out").toFile()));
      assertThat(curl.waitFor(3, TimeUnit.MINUTES)).isTrue();
      assertThat(curl.exitValue()).as("curl: %s; share:%n%s", Files.readString(dir.resolve("curl.out")), share.stderr())
          .isEqualTo(0);
      assertThat(Files.readAllBytes(got)).isEqualTo(page);
    } finally {
      http.stop(0);
    }
  }
}
