package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code listen}/{@code pipe} with HTTPS_PROXY, ALL_PROXY and NO_PROXY set, against a real
 * tinyproxy on 127.0.0.1 that wants Basic credentials: both relay connections go through CONNECT
 * (the proxy's log shows them), so does the DERP map fetch, the password appears nowhere, and a
 * proxy URL that cannot be used is a one-line usage error.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class HttpsProxyIT extends RelayedIT {
  static final Duration TRANSFER = Duration.ofSeconds(90);
  static final String USER = "alice";
  static final String PASSWORD = "s3cretPW";

  Tinyproxy proxy;
  int proxyPort;

  @BeforeEach
  void startProxy() throws Exception {
    Tinyproxy.assumeInstalled();
    proxyPort = freePort();
    proxy = Tinyproxy.start(dir.resolve("proxy"),
        Tinyproxy.config(dir.resolve("proxy"), "127.0.0.1", proxyPort, "127.0.0.1", USER, PASSWORD),
        cmd -> processes.start(new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(dir.resolve("proxy.out").toFile())));
  }

  private String proxyUrl(String password) {
    return "http://" + USER + ":" + password + "@127.0.0.1:" + proxyPort;
  }

  private Derphole start(String name, Map<String, String> env, Path stdin, String... args) {
    ProcessBuilder pb = Derphole.builder(dir, name, relay.mapFile(), args);
    pb.environment().putAll(env);
    Path out = dir.resolve(name + ".stdout");
    pb.redirectOutput(out.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(stdin.toFile()));
    return new Derphole(name, processes.start(pb), out, dir.resolve(name + ".stderr"));
  }

  private long connectsToRelay() {
    Pattern connect = Pattern.compile("CONNECT 127\\.0\\.0\\.1:" + relay.node().derpPort() + " HTTP/1\\.1");
    return connect.matcher(proxy.log()).results().count();
  }

  @Test
  void listenAndPipeCompleteThroughTheProxy() throws Exception {
    Path input = Bytes.randomFile(dir.resolve("in.bin"), 3L << 20, 28L);
    Map<String, String> env = Map.of("HTTPS_PROXY", proxyUrl(PASSWORD));
    Derphole listen = start("listen", env, Path.of("/dev/null"), "--verbose", "listen");
    String token = listen.awaitToken();
    Derphole pipe = start("pipe", env, input, "--verbose", "pipe", token);
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).isEqualTo(Bytes.sha256(input));
    assertThat(connectsToRelay()).as("one CONNECT per side to the relay; proxy log:%n%s", proxy.log())
        .isGreaterThanOrEqualTo(2);
    for (Derphole d : new Derphole[] {listen, pipe}) {
      assertThat(d.stderrLines()).as(d.name + " says, under --verbose, which proxy it uses")
          .anyMatch(l -> l.startsWith("proxy https through http://alice@127.0.0.1:" + proxyPort + " (HTTPS_PROXY), http direct "));
      assertThat(d.stderr()).as(d.name + " never prints the password").doesNotContain(PASSWORD);
    }
  }

  @Test
  void aWrongPasswordIsTheProxysRefusalInOneLine() throws Exception {
    Derphole listen = start("listen", Map.of("HTTPS_PROXY", proxyUrl("wrong")), Path.of("/dev/null"), "listen");
    listen.assertExit(1, TRANSFER);
    // tinyproxy says 401 where RFC 9110 says 407; either is the proxy's refusal, passed on as it came.
    assertThat(listen.assertOneLineError()).matches(".*the HTTP proxy answered CONNECT with 40[17] .*")
        .doesNotContain("wrong");
  }

  @Test
  void noProxyListingTheRelayGoesDirect() throws Exception {
    Path input = Bytes.randomFile(dir.resolve("in.bin"), 64L << 10, 29L);
    // A proxy that is not there: only NO_PROXY makes this work.
    Map<String, String> env = Map.of("HTTPS_PROXY", "http://127.0.0.1:" + freePort(), "NO_PROXY", "localhost,127.0.0.0/8");
    Derphole listen = start("listen", env, Path.of("/dev/null"), "listen");
    String token = listen.awaitToken();
    Derphole pipe = start("pipe", env, input, "pipe", token);
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).isEqualTo(Bytes.sha256(input));
    assertThat(connectsToRelay()).isZero();
  }

  @Test
  void theDerpMapIsFetchedThroughAllProxy() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    byte[] map = Files.readAllBytes(relay.mapFile());
    server.createContext("/derp-map.json", ex -> {
      ex.sendResponseHeaders(200, map.length);
      ex.getResponseBody().write(map);
      ex.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/derp-map.json";
      Map<String, String> env = Map.of("ALL_PROXY", proxyUrl(PASSWORD), "DERPHOLE_DERP_MAP", url);
      Derphole listen = start("listen", env, Path.of("/dev/null"), "listen", "--print-token-only");
      listen.awaitBareToken();
      assertThat(proxy.log()).as("the map's GET went through the proxy").contains("GET " + url + " HTTP/1.1");
      assertThat(connectsToRelay()).as("and the relay connection too").isGreaterThanOrEqualTo(1);
      listen.process.destroyForcibly();
    } finally {
      server.stop(0);
    }
  }

  /**
   * An https map URL: the JDK's client tunnels it with CONNECT, and the Basic credentials must be
   * in that CONNECT (the JDK leaves them out by default). The target is our relay, whose
   * self-signed certificate the JDK does not trust, so the fetch itself fails after the tunnel.
   */
  @Test
  void anHttpsMapFetchCarriesTheCredentialsInItsConnect() throws Exception {
    String url = "https://127.0.0.1:" + relay.node().derpPort() + "/derp-map.json";
    Derphole listen = start("listen", Map.of("HTTPS_PROXY", proxyUrl(PASSWORD), "DERPHOLE_DERP_MAP", url),
        Path.of("/dev/null"), "listen");
    listen.assertExit(1, TRANSFER);
    // The JDK's own words for the untrusted certificate follow (a class name among them: not ours to judge here).
    assertThat(listen.stderrLines()).hasSize(1);
    assertThat(listen.stderr()).as("the tunnel was up: TLS failed inside it, not the proxy's refusal")
        .contains("TLS failed").doesNotContain("407").doesNotContain("401").doesNotContain(PASSWORD);
    assertThat(proxy.log()).as("the proxy accepted the credentials and opened the tunnel")
        .contains("CONNECT 127.0.0.1:" + relay.node().derpPort() + " HTTP/1.1")
        .contains("Established connection to host \"127.0.0.1\"");
  }

  @Test
  void anUnusableProxyUrlIsAUsageError() throws Exception {
    for (String[] bad : new String[][] {{"HTTPS_PROXY", "socks5://127.0.0.1:1080"}, {"https_proxy", "http://u:p@:3128"},
        {"ALL_PROXY", "http://proxy:70000"}}) {
      Derphole listen = start("bad-" + bad[0], Map.of(bad[0], bad[1]), Path.of("/dev/null"), "listen");
      listen.assertExit(2, TRANSFER);
      assertThat(listen.assertOneLineError()).startsWith(bad[0] + " is not a usable proxy URL");
      assertThat(listen.stdout).isEmptyFile();
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
