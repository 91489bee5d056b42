package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code derphole share} and {@code derphole open} as real processes through a real relay: a
 * service in this JVM (HTTP, echo, a server that speaks first) is reached through the port
 * {@code open} prints, by {@code curl} and by plain sockets.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ShareOpenIT extends RelayedIT {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final Path NO_INPUT = Path.of("/dev/null");
  static final Pattern OPEN_TOKEN = Pattern.compile("(?m)^On the other machine, run:\\R^derphole open (\\S+)\\R");
  static final Pattern LISTENING = Pattern.compile("(?m)^listening on 127\\.0\\.0\\.1:(\\d+)$");
  static final int SO_TIMEOUT = 60_000;

  private final List<AutoCloseable> services = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "share-it");
    t.setDaemon(true);
    return t;
  });

  /** Runs before {@link RelayedIT#stopProcesses}. */
  @AfterEach
  void stopServices() throws Exception {
    for (AutoCloseable s : services) {
      s.close();
    }
    pool.shutdownNow();
  }

  /** A running share/open pair; {@link #port} is where clients connect. */
  record Pair(Derphole share, Derphole open, String token, int port) {}

  private Pair pair(int targetPort, String... extra) throws Exception {
    List<String> shareArgs = new ArrayList<>(List.of("--verbose", "share"));
    shareArgs.addAll(List.of(extra));
    shareArgs.add(String.valueOf(targetPort));
    Derphole share = Derphole.start(processes, dir, "share", relay.mapFile(), NO_INPUT, shareArgs.toArray(String[]::new));
    String token = share.awaitStderr(OPEN_TOKEN).group(1);
    List<String> openArgs = new ArrayList<>(List.of("--verbose", "open"));
    openArgs.addAll(List.of(extra));
    openArgs.add(token);
    Derphole open = Derphole.start(processes, dir, "open", relay.mapFile(), NO_INPUT, openArgs.toArray(String[]::new));
    Matcher m = open.awaitStderr(LISTENING);
    return new Pair(share, open, token, Integer.parseInt(m.group(1)));
  }

  // ------------------------------------------------------------------------------- HTTP with curl

  @Test
  void curlGetsAPageAndA50MiBPostComesBackIntact() throws Exception {
    int port = http();
    Pair p = pair(port);
    Path page = dir.resolve("page.out");
    assertThat(curl("-o", page.toString(), "http://127.0.0.1:" + p.port() + "/hello")).isEqualTo(0);
    assertThat(Files.readString(page)).isEqualTo("hello through derphole\n");

    Path upload = Bytes.randomFile(dir.resolve("upload.bin"), 50L << 20, 6);
    Path echoed = dir.resolve("echoed.bin");
    assertThat(curl("--data-binary", "@" + upload, "-H", "Content-Type: application/octet-stream",
        "-o", echoed.toString(), "http://127.0.0.1:" + p.port() + "/echo")).isEqualTo(0);
    assertThat(Bytes.sha256(echoed)).as("the echoed body").isEqualTo(Bytes.sha256(upload));
    assertThat(p.share().stderr()).contains("connection-opened 1 open").contains("connection-closed 0 open");
    assertThat(p.open().stdout).as("open prints nothing on stdout").isEmptyFile();
    assertThat(p.share().stdout).as("share prints nothing on stdout").isEmptyFile();
  }

  @Test
  void overTheRelayOnlyCurlWorksToo() throws Exception {
    int port = http();
    Pair p = pair(port, "--force-relay");
    Path page = dir.resolve("page.out");
    for (int i = 0; i < 3; i++) {
      assertThat(curl("-o", page.toString(), "http://127.0.0.1:" + p.port() + "/hello")).isEqualTo(0);
      assertThat(Files.readString(page)).isEqualTo("hello through derphole\n");
    }
    assertThat(p.share().stderr()).doesNotContain("connected-direct");
  }

  // ------------------------------------------------------------------------------- plain sockets

  @Test
  void twoHundredConcurrentConnectionsEachGetTheirOwnBytesBack() throws Exception {
    int port = echo();
    Pair p = pair(port);
    List<Future<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      int seed = i;
      results.add(pool.submit(() -> {
        byte[] data = new byte[10_000 + new Random(seed).nextInt(200_000)];
        new Random(seed).nextBytes(data);
        return exchange(p.port(), data).equals(sha256(data));
      }));
    }
    for (Future<Boolean> r : results) {
      assertThat(r.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }
    assertThat(p.share().process.isAlive()).isTrue();
    assertThat(p.open().process.isAlive()).isTrue();
  }

  @Test
  void aServerThatSpeaksFirstGreetsAClientThatWaits() throws Exception {
    int port = service(s -> {
      s.getOutputStream().write("SSH-2.0-OpenSSH_9.2 test\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      String line = readLine(s.getInputStream());
      s.getOutputStream().write(("you said " + line + "\r\n").getBytes(StandardCharsets.US_ASCII));
    });
    Pair p = pair(port);
    try (Socket alice = socket(p.port())) {
      assertThat(readLine(alice.getInputStream())).isEqualTo("SSH-2.0-OpenSSH_9.2 test");
      alice.getOutputStream().write("SSH-2.0-alice\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readLine(alice.getInputStream())).isEqualTo("you said SSH-2.0-alice");
    }
  }

  @Test
  void aClientThatShutsItsWriteSideGetsTheWholeReply() throws Exception {
    byte[] reply = new byte[4 << 20];
    new Random(7).nextBytes(reply);
    int port = service(s -> {
      byte[] request = s.getInputStream().readAllBytes(); // up to the client's FIN
      s.getOutputStream().write(sha256(request).getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(reply);
      s.shutdownOutput();
    });
    Pair p = pair(port);
    for (int i = 0; i < 5; i++) {
      byte[] request = ("request " + i).getBytes(StandardCharsets.US_ASCII);
      try (Socket alice = socket(p.port())) {
        alice.getOutputStream().write(request);
        alice.shutdownOutput();
        byte[] got = alice.getInputStream().readAllBytes();
        assertThat(got).hasSize(64 + reply.length);
        assertThat(new String(got, 0, 64, StandardCharsets.US_ASCII)).isEqualTo(sha256(request));
        assertThat(sha256(java.util.Arrays.copyOfRange(got, 64, got.length))).isEqualTo(sha256(reply));
      }
    }
  }

  @Test
  void whenTheTargetIsDownTheClientIsClosedAndTheNextConnectionWorksOnceItIsBack() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    Pair p = pair(port);
    try (Socket alice = socket(p.port())) {
      alice.getOutputStream().write("hello?".getBytes(StandardCharsets.US_ASCII));
      assertThat(endOfStream(alice)).as("the client's connection is closed").isTrue();
    }
    p.share().awaitStderr(Pattern.compile("connection-refused cannot connect to 127\\.0\\.0\\.1:" + port + ": .*refused"));
    service(port, ShareOpenIT::echoConversation);
    byte[] data = "the service is back".getBytes(StandardCharsets.US_ASCII);
    assertThat(exchange(p.port(), data)).isEqualTo(sha256(data));
    assertThat(p.share().process.isAlive()).isTrue();
    assertThat(p.open().process.isAlive()).isTrue();
  }

  // ------------------------------------------------------------------------------- claims, ports, endings

  @Test
  void aSecondOpenIsToldTheSessionIsAlreadyClaimedAndTheFirstKeepsWorking() throws Exception {
    int port = echo();
    Pair p = pair(port);
    Derphole second = Derphole.start(processes, dir, "open2", relay.mapFile(), NO_INPUT, "open", p.token());
    second.assertExit(1, WAIT);
    assertThat(second.assertOneLineError()).isEqualTo("session already claimed");
    byte[] data = "still mine".getBytes(StandardCharsets.US_ASCII);
    assertThat(exchange(p.port(), data)).isEqualTo(sha256(data));
  }

  @Test
  void aTakenPortIsOneLineAndDoesNotSpendTheToken() throws Exception {
    int port = echo();
    Derphole share = Derphole.start(processes, dir, "share", relay.mapFile(), NO_INPUT, "share", ":" + port);
    String token = share.awaitStderr(OPEN_TOKEN).group(1);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Derphole open = Derphole.start(processes, dir, "open-taken", relay.mapFile(), NO_INPUT,
          "open", token, "127.0.0.1:" + taken.getLocalPort());
      open.assertExit(1, WAIT);
      assertThat(open.assertOneLineError())
          .isEqualTo("cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": Address already in use");
    }
    Derphole open = Derphole.start(processes, dir, "open", relay.mapFile(), NO_INPUT, "open", token);
    int at = Integer.parseInt(open.awaitStderr(LISTENING).group(1));
    byte[] data = "the token still worked".getBytes(StandardCharsets.US_ASCII);
    assertThat(exchange(at, data)).isEqualTo(sha256(data));
  }

  @Test
  void anExplicitPortIsUsedAndStopping_OpenEndsShareWithAReason() throws Exception {
    int port = echo();
    int wanted;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      wanted = probe.getLocalPort();
    }
    Derphole share = Derphole.start(processes, dir, "share", relay.mapFile(), NO_INPUT, "share", "127.0.0.1:" + port);
    String token = share.awaitStderr(OPEN_TOKEN).group(1);
    Derphole open = Derphole.start(processes, dir, "open", relay.mapFile(), NO_INPUT, "open", token, String.valueOf(wanted));
    assertThat(open.awaitStderr(LISTENING).group(1)).isEqualTo(String.valueOf(wanted));
    byte[] data = "explicit".getBytes(StandardCharsets.US_ASCII);
    assertThat(exchange(wanted, data)).isEqualTo(sha256(data));
    open.process.destroy(); // SIGTERM, as Ctrl-C: shutdown hooks run
    open.exitWithin(WAIT);
    share.assertExit(1, WAIT);
    assertThat(share.lastStderrLine()).hasValueSatisfying(l -> assertThat(l).startsWith("derphole: the other side was interrupted"));
    assertThat(share.stderr()).doesNotContain("Exception");
  }

  @Test
  void stoppingShareEndsOpenWithAReasonAndClosesItsPort() throws Exception {
    int port = echo();
    Pair p = pair(port);
    byte[] data = "before".getBytes(StandardCharsets.US_ASCII);
    assertThat(exchange(p.port(), data)).isEqualTo(sha256(data));
    p.share().process.destroy();
    p.share().exitWithin(WAIT);
    p.open().assertExit(1, WAIT);
    assertThat(p.open().lastStderrLine()).hasValueSatisfying(l -> assertThat(l).startsWith("derphole: the other side was interrupted"));
    assertThat(p.open().stderr()).doesNotContain("Exception");
    try (Socket late = new Socket()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> late.connect(new InetSocketAddress("127.0.0.1", p.port())))
          .as("nothing listens any more").isInstanceOf(java.net.ConnectException.class);
    }
  }

  @Test
  void badArgumentsAreUsageErrors() throws Exception {
    Derphole share = Derphole.start(processes, dir, "share-bad", relay.mapFile(), NO_INPUT, "share", "127.0.0.1:notaport");
    share.assertExit(2, WAIT);
    assertThat(share.stderrLines().get(0)).isEqualTo("derphole: bad port \"notaport\" in \"127.0.0.1:notaport\"");
    Derphole open = Derphole.start(processes, dir, "open-bad", relay.mapFile(), NO_INPUT,
        "open", "--max-connections", "0", "dhoBAAAA");
    open.assertExit(2, WAIT);
    assertThat(open.stderrLines().get(0)).isEqualTo("derphole: --max-connections must be 1..1024, got 0");
    Derphole pipeToken = Derphole.start(processes, dir, "open-stream-token", relay.mapFile(), NO_INPUT,
        "open", "not-a-token");
    pipeToken.assertExit(1, WAIT);
    assertThat(pipeToken.assertOneLineError()).isEqualTo("that is not a derphole token");
  }

  // ------------------------------------------------------------------------------- services in this JVM

  /** GET /hello and POST /echo (the body back, streamed). */
  private int http() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/hello", ex -> respond(ex, "hello through derphole\n".getBytes(StandardCharsets.UTF_8)));
    server.createContext("/echo", ex -> {
      try (ex; InputStream in = ex.getRequestBody()) {
        ex.sendResponseHeaders(200, 0); // chunked
        try (OutputStream out = ex.getResponseBody()) {
          in.transferTo(out);
        }
      }
    });
    server.setExecutor(pool);
    server.start();
    services.add(() -> server.stop(0));
    return server.getAddress().getPort();
  }

  private static void respond(HttpExchange ex, byte[] body) throws IOException {
    try (ex) {
      ex.getRequestBody().readAllBytes();
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    }
  }

  interface Conversation {
    void run(Socket s) throws Exception;
  }

  private int echo() throws IOException {
    return service(ShareOpenIT::echoConversation);
  }

  static void echoConversation(Socket s) throws IOException {
    s.getInputStream().transferTo(s.getOutputStream());
    s.shutdownOutput();
  }

  private int service(Conversation c) throws IOException {
    return service(0, c);
  }

  /** A thread-per-connection TCP service on 127.0.0.1:{@code port}, closed after the test. */
  private int service(int port, Conversation c) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress("127.0.0.1", port), 512);
    List<Socket> sockets = new CopyOnWriteArrayList<>();
    services.add(() -> {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    });
    pool.submit(() -> {
      while (!server.isClosed()) {
        Socket s;
        try {
          s = server.accept();
        } catch (IOException closed) {
          return;
        }
        sockets.add(s);
        pool.submit(() -> {
          try (s) {
            c.run(s);
          } catch (Exception e) {
            // the client went away
          }
          return null;
        });
      }
    });
    return server.getLocalPort();
  }

  // ------------------------------------------------------------------------------- clients

  private int curl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "120"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectError(dir.resolve("curl.stderr").toFile())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process curl = processes.start(pb);
    assertThat(curl.waitFor(150, TimeUnit.SECONDS)).as("curl finishes").isTrue();
    if (curl.exitValue() != 0) {
      throw new AssertionError("curl exited " + curl.exitValue() + ": " + Relay.read(dir.resolve("curl.stderr")));
    }
    return curl.exitValue();
  }

  private static Socket socket(int port) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(SO_TIMEOUT);
    return s;
  }

  /** Sends {@code data}, half-closes, reads the echo to its end; returns its SHA-256. */
  private static String exchange(int port, byte[] data) throws Exception {
    try (Socket s = socket(port)) {
      CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
        try {
          s.getOutputStream().write(data);
          s.shutdownOutput();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      String hash = sha256(s.getInputStream().readAllBytes());
      writing.get(SO_TIMEOUT, TimeUnit.MILLISECONDS);
      return hash;
    }
  }

  private static boolean endOfStream(Socket s) throws IOException {
    try {
      return s.getInputStream().read() < 0;
    } catch (SocketException reset) {
      return true;
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new IOException("connection ended after \"" + line + "\"");
      }
      line.write(b);
    }
    return line.toString(StandardCharsets.US_ASCII).trim();
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

}
