package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The products on Java NIO, the transport of Windows and of any platform whose epoll or kqueue
 * native the jar lacks: every process here runs with {@code DERPHOLE_JAVA_OPTS=-Dderphole.transport=nio}
 * and must say so in its {@code --verbose} {@code io} line, so these tests fail if the property is
 * ignored. listen/pipe over the relay and direct on loopback (NIO on both ends, and NIO receiving
 * from an epoll sender that sends segments with UDP GSO), a directory through send/receive, and a
 * shared HTTP service through open with curl.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class NioTransportIT extends RelayedIT {
  static final Duration TRANSFER = Duration.ofSeconds(150);
  static final Path NO_INPUT = Path.of("/dev/null");
  static final String NIO = "-Dderphole.transport=nio";
  static final String NIO_LINE = "io nio (forced by -Dderphole.transport=nio)";
  static final Pattern OPEN_TOKEN = Pattern.compile("(?m)^On the other machine, run:\\R^derphole open (\\S+)\\R");
  static final Pattern LISTENING = Pattern.compile("(?m)^listening on 127\\.0\\.0\\.1:(\\d+)$");

  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "nio-it-http");
    t.setDaemon(true);
    return t;
  });
  private final List<HttpServer> servers = new ArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(s -> s.stop(0));
    pool.shutdownNow();
  }

  /**
   * {@code bin/derphole --verbose ARGS} in {@code in} with stdout to {@code in/NAME.stdout};
   * {@code javaOpts} null runs the default transport. Loopback candidates are allowed, so the
   * direct path forms on 127.0.0.1 whatever interfaces the machine has.
   */
  private Derphole start(Path in, String name, String javaOpts, Path stdin, String... args) {
    List<String> all = new ArrayList<>(List.of("--verbose"));
    all.addAll(List.of(args));
    ProcessBuilder pb = Derphole.builder(in, name, relay.mapFile(), all.toArray(String[]::new));
    pb.environment().remove("DERPHOLE_JAVA_OPTS");
    if (javaOpts != null) {
      pb.environment().put("DERPHOLE_JAVA_OPTS", javaOpts);
    }
    pb.environment().put("DERPHOLE_ALLOW_LOOPBACK", "1");
    Path out = in.resolve(name + ".stdout");
    pb.redirectOutput(out.toFile()).redirectInput(stdin.toFile());
    return new Derphole(name, processes.start(pb), out, in.resolve(name + ".stderr"));
  }

  /** The process ran on NIO: its io line says so, and it is the only io line. */
  private static void assertRanOnNio(Derphole d) {
    List<String> io = d.stderrLines().stream().filter(l -> l.startsWith("io ")).toList();
    assertThat(io).as("%s's io line; stderr:%n%s", d.name, d.stderr()).hasSize(1);
    assertThat(io.get(0)).as("%s's io line", d.name).startsWith(NIO_LINE + " +");
  }

  private static void assertRanOnEpoll(Derphole d) {
    assertThat(d.stderr()).as("%s's stderr", d.name).containsPattern("(?m)^io epoll \\+");
  }

  /** listen, then pipe with {@code input}; stdout is exactly the input and both exit 0. */
  private Derphole[] listenPipe(Path input, String listenOpts, String pipeOpts, String... extra) throws Exception {
    List<String> listenArgs = new ArrayList<>(List.of("listen"));
    listenArgs.addAll(List.of(extra));
    Derphole listen = start(dir, "listen", listenOpts, NO_INPUT, listenArgs.toArray(String[]::new));
    String token = listen.awaitToken();
    List<String> pipeArgs = new ArrayList<>(List.of("pipe"));
    pipeArgs.addAll(List.of(extra));
    pipeArgs.add(token);
    Derphole pipe = start(dir, "pipe", pipeOpts, input, pipeArgs.toArray(String[]::new));
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).as("SHA-256 of the listener's stdout").isEqualTo(Bytes.sha256(input));
    assertThat(pipe.stdout).isEmptyFile();
    return new Derphole[] {listen, pipe};
  }

  @Test
  void listenPipeOverTheRelayOnNio() throws Exception {
    Path input = Bytes.randomFile(dir.resolve("relay.in"), 8L << 20, 26);
    Derphole[] both = listenPipe(input, NIO, NIO, "--force-relay");
    assertRanOnNio(both[0]);
    assertRanOnNio(both[1]);
    assertThat(both[0].stderr()).doesNotContain("connected-direct");
  }

  @Test
  void listenPipeDirectOnLoopbackOnNio() throws Exception {
    Derphole[] both = direct(NIO);
    assertRanOnNio(both[1]);
  }

  /** Large QUIC packets leave an epoll sender in segments through UDP GSO and arrive at NIO one datagram per read. */
  @Test
  void nioReceivesWhatAnEpollSenderSendsDirect() throws Exception {
    Derphole[] both = direct(null);
    assertRanOnEpoll(both[1]);
  }

  /** 24 MiB from pipe ({@code pipeOpts}) to listen (NIO), which goes direct. */
  private Derphole[] direct(String pipeOpts) throws Exception {
    Path input = Bytes.randomFile(dir.resolve("direct.in"), 24L << 20, 27);
    Derphole[] both = listenPipe(input, NIO, pipeOpts);
    assertRanOnNio(both[0]);
    assertThat(both[0].stderr()).as("listen went direct").containsPattern("(?m)^connected-direct ");
    return both;
  }

  @Test
  void aDirectoryGoesThroughSendAndReceiveOnNio() throws Exception {
    Path from = Files.createDirectory(dir.resolve("from"));
    Path to = Files.createDirectory(dir.resolve("to"));
    Path tree = Files.createDirectories(from.resolve("tree"));
    Files.createDirectories(tree.resolve("a/b"));
    Files.createDirectories(tree.resolve("empty"));
    Files.writeString(tree.resolve("a/b/deep.txt"), "deep\n");
    Bytes.randomFile(tree.resolve("a/random.bin"), 5_000_001, 29);
    Files.writeString(tree.resolve("run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(tree.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
    Derphole send = start(from, "send", NIO, NO_INPUT, "send", "tree");
    Derphole receive = start(to, "receive", NIO, NO_INPUT, "receive", Offers.token(send));
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    assertThat(Offers.tree(to.resolve("tree"))).isEqualTo(Offers.tree(tree)).hasSize(7);
    assertRanOnNio(send);
    assertRanOnNio(receive);
  }

  @Test
  void curlReachesASharedServiceThroughOpenOnNio() throws Exception {
    int port = http();
    Derphole share = start(dir, "share", NIO, NO_INPUT, "share", String.valueOf(port));
    String token = share.awaitStderr(OPEN_TOKEN).group(1);
    Derphole open = start(dir, "open", NIO, NO_INPUT, "open", token);
    Matcher m = open.awaitStderr(LISTENING);
    String base = "http://127.0.0.1:" + m.group(1);

    Path page = dir.resolve("page.out");
    curl("-o", page.toString(), base + "/hello");
    assertThat(page).hasContent("hello over nio");
    Path upload = Bytes.randomFile(dir.resolve("upload.bin"), 6L << 20, 30);
    Path echoed = dir.resolve("echoed.bin");
    curl("--data-binary", "@" + upload, "-H", "Content-Type: application/octet-stream", "-o", echoed.toString(), base + "/echo");
    assertThat(Bytes.sha256(echoed)).as("the echoed body").isEqualTo(Bytes.sha256(upload));
    assertRanOnNio(share);
    assertRanOnNio(open);
  }

  /** A value the property does not know is not silently dropped: one warning line, then the default. */
  @Test
  void anUnknownTransportIsNamedInAWarningAndTheDefaultRuns() throws Exception {
    Derphole listen = start(dir, "listen", "-Dderphole.transport=io_uring", NO_INPUT, "listen");
    listen.awaitToken();
    listen.awaitEvent("io");
    assertThat(listen.stderrLines()).as("listen's stderr")
        .contains("derphole: ignoring -Dderphole.transport=io_uring: expected auto, nio, epoll or kqueue");
    assertRanOnEpoll(listen);
    assertThat(listen.stderr()).doesNotContain("Exception");
  }

  /** An HTTP service in this JVM: {@code /hello} answers a fixed page, {@code /echo} its request body. */
  private int http() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.createContext("/hello", ex -> {
      try (ex) {
        byte[] body = "hello over nio".getBytes(StandardCharsets.UTF_8);
        ex.getRequestBody().readAllBytes();
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
      }
    });
    server.createContext("/echo", ex -> {
      try (ex; InputStream in = ex.getRequestBody()) {
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
          in.transferTo(out);
        }
      }
    });
    server.setExecutor(pool);
    server.start();
    servers.add(server);
    return server.getAddress().getPort();
  }

  private void curl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "120"));
    cmd.addAll(List.of(args));
    Process curl = processes.start(new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectError(dir.resolve("curl.stderr").toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD));
    assertThat(curl.waitFor(150, TimeUnit.SECONDS)).as("curl finishes").isTrue();
    assertThat(curl.exitValue()).as("curl: %s", Relay.read(dir.resolve("curl.stderr"))).isZero();
  }
}
