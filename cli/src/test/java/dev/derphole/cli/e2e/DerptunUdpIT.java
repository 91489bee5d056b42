package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.tunnel.ServerToken;
import dev.derphole.session.tunnel.udp.UdpFrame;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * derptun's UDP forwarding end to end with real processes: a real relay, {@code derptun serve
 * --udp} in front of a UDP echo service (or a real {@code dnsmasq}), {@code derptun open --udp},
 * and real UDP sockets (or {@code dig}) as its clients. Waits are for verbose lines and answers;
 * a UDP answer is awaited a bounded time, the only way to see that one was lost.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DerptunUdpIT extends RelayedIT {
  static final Pattern LISTENING_UDP = Pattern.compile("(?m)^listening on udp 127\\.0\\.0\\.1:(\\d+)$");
  /** How long an answer may take on a loaded machine before it counts as lost. */
  static final int ANSWER_MS = 10_000;

  private static Path serverFile;
  private static Path clientFile;

  @BeforeAll
  static void mintTokens(@TempDir Path tokens) throws Exception {
    serverFile = tokens.resolve("server.dts");
    Derphole mint = Derptun.start(shared, tokens, "token-server", relay.mapFile(), "token", "server", "--output",
        serverFile.toString());
    mint.assertExit(0, Derptun.TOKEN_EXIT);
    clientFile = Derptun.file(tokens, "client.dtc", Derptun.token(shared, tokens, "token-client", relay.mapFile(),
        "dtc1_", "token", "client", "--token-file", serverFile.toString()));
  }

  private Derphole serve(Path map, String... extra) throws InterruptedException {
    return serve(map, serverFile, extra);
  }

  private Derphole serve(Path map, Path serverFile, String... extra) throws InterruptedException {
    List<String> args = new ArrayList<>(List.of("--verbose", "serve", "--token-file", serverFile.toString()));
    args.addAll(Arrays.asList(extra));
    Derphole p = Derptun.start(processes, dir, "serve", map, args.toArray(String[]::new));
    p.awaitEvent("relay-connected");
    return p;
  }

  private Derphole open(String name, Path map, Path token, String... extra) {
    List<String> args = new ArrayList<>(List.of("--verbose", "open", "--token-file", token.toString(), "--udp", "127.0.0.1:0"));
    args.addAll(Arrays.asList(extra));
    return Derptun.start(processes, dir, name, map, args.toArray(String[]::new));
  }

  static int udpPort(Derphole open) throws InterruptedException {
    Matcher m = open.awaitStderr(LISTENING_UDP);
    return Integer.parseInt(m.group(1));
  }

  /** Lines of {@code p}'s stderr that start with {@code event}. */
  static long count(Derphole p, String event) {
    return p.stderrLines().stream().filter(l -> l.startsWith(event + " ")).count();
  }

  @Test
  void threeClientsThroughOneOpenEachGetOnlyTheirOwnReplies() throws Exception {
    try (UdpEcho echo = new UdpEcho()) {
      Derphole serve = serve(relay.mapFile(), "--udp", "127.0.0.1:" + echo.port());
      int port = udpPort(open("open", relay.mapFile(), clientFile));
      ExecutorService pool = Executors.newFixedThreadPool(3);
      try {
        List<Future<List<String>>> results = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
          String name = "client-" + c + "-";
          results.add(pool.submit(() -> {
            List<String> foreign = new ArrayList<>();
            try (UdpEcho.Client client = new UdpEcho.Client(port)) {
              assertThat(client.roundTrip(name + "hello", 5, ANSWER_MS)).as("%s's first echo", name).isNotNull();
              for (int i = 0; i < 200; i++) {
                String sent = name + i;
                client.send(sent);
                byte[] r = client.receive(ANSWER_MS);
                assertThat(r).as("%s's echo of datagram %d", name, i).isNotNull();
                String got = new String(r, StandardCharsets.US_ASCII);
                if (!got.startsWith(name)) {
                  foreign.add(got);
                }
                assertThat(got).as("%s datagram %d", name, i).isEqualTo(sent);
              }
            }
            return foreign;
          }));
        }
        for (Future<List<String>> f : results) {
          assertThat(f.get(3, TimeUnit.MINUTES)).as("replies meant for another client").isEmpty();
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(echo.senders).as("one socket on serve's side per flow").hasSize(3);
      assertThat(count(serve, "udp-flow-opened")).isEqualTo(3);
    }
  }

  @Test
  void digThroughTheTunnelGetsAnAnswerFromARealDnsmasq() throws Exception {
    int dnsPort;
    try (DatagramSocket probe = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
      dnsPort = probe.getLocalPort();
    }
    ProcessBuilder dns = new ProcessBuilder("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
        "--no-hosts", "--user=root", "--pid-file=", "--listen-address=127.0.0.1", "--bind-interfaces",
        "--port=" + dnsPort, "--address=/tunnel.derptun.test/192.0.2.7", "--log-queries", "--log-facility=-")
        .redirectOutput(dir.resolve("dnsmasq.stdout").toFile()).redirectError(dir.resolve("dnsmasq.stderr").toFile());
    processes.start(dns);
    serve(relay.mapFile(), "--udp", "127.0.0.1:" + dnsPort);
    int port = udpPort(open("open", relay.mapFile(), clientFile));
    String answer = Derptun.run(processes, dir, "dig", null, List.of("dig", "@127.0.0.1", "-p", Integer.toString(port),
        "tunnel.derptun.test", "A", "+short", "+tries=5", "+time=5"), Duration.ofSeconds(60));
    assertThat(answer.strip()).isEqualTo("192.0.2.7");
    assertThat(Relay.read(dir.resolve("dnsmasq.stderr"))).as("dnsmasq answered it").contains("tunnel.derptun.test");
  }

  @Test
  void serveCapsItsFlowsAndDropsTheRestCounted() throws Exception {
    try (UdpEcho echo = new UdpEcho()) {
      Derphole serve = serve(relay.mapFile(), "--udp", "127.0.0.1:" + echo.port(), "--max-udp-flows", "2");
      int port = udpPort(open("open", relay.mapFile(), clientFile));
      try (UdpEcho.Client first = new UdpEcho.Client(port); UdpEcho.Client second = new UdpEcho.Client(port);
           UdpEcho.Client third = new UdpEcho.Client(port)) {
        assertThat(first.roundTrip("first", 5, ANSWER_MS)).isNotNull();
        assertThat(second.roundTrip("second", 5, ANSWER_MS)).isNotNull();
        third.send("third");
        serve.awaitStderr(Pattern.compile("(?m)^udp-dropped 1 in the last 1 s \\(flow limit reached: 1\\)"));
        assertThat(third.receive(1000)).as("no answer for a flow over the cap").isNull();
        assertThat(echo.senders).hasSize(2);
        assertThat(first.roundTrip("first again", 5, ANSWER_MS)).as("the flows within the cap carry on").isNotNull();
      }
    }
  }

  @Test
  void idleFlowsExpireOnBothSidesAndFreeTheirPlace() throws Exception {
    try (UdpEcho echo = new UdpEcho()) {
      Derphole serve = serve(relay.mapFile(), "--udp", "127.0.0.1:" + echo.port(), "--max-udp-flows", "1",
          "--udp-idle-timeout", "1");
      Derphole open = open("open", relay.mapFile(), clientFile, "--udp-idle-timeout", "1", "--max-udp-flows", "1");
      int port = udpPort(open);
      try (UdpEcho.Client first = new UdpEcho.Client(port); UdpEcho.Client second = new UdpEcho.Client(port)) {
        assertThat(first.roundTrip("first", 5, ANSWER_MS)).isNotNull();
        open.awaitStderr(Pattern.compile("(?m)^udp-flow-closed 127\\.0\\.0\\.1:" + first.socket.getLocalPort()
            + " \\(flow 0; idle 1 s; 0 open\\)"));
        serve.awaitStderr(Pattern.compile("(?m)^udp-flow-closed flow 0 \\(idle 1 s; 0 open\\)"));
        assertThat(second.roundTrip("second", 5, ANSWER_MS)).as("the place the idle flow left").isNotNull();
        // open's own cap: while the second flow lives, a third address is dropped there.
        first.send("over open's cap");
        open.awaitStderr(Pattern.compile("(?m)^udp-dropped 1 in the last 1 s \\(flow limit reached: 1\\)"));
      }
    }
  }

  @Test
  void aDatagramOverTheLimitIsDroppedAndCountedOnBothSides() throws Exception {
    try (UdpEcho echo = new UdpEcho()) {
      Derphole serve = serve(relay.mapFile(), "--udp", "127.0.0.1:" + echo.port());
      Derphole open = open("open", relay.mapFile(), clientFile);
      int port = udpPort(open);
      try (UdpEcho.Client client = new UdpEcho.Client(port)) {
        assertThat(client.roundTrip("hello", 5, ANSWER_MS)).isNotNull();
        byte[] largest = new byte[UdpFrame.MAX_PAYLOAD];
        Arrays.fill(largest, (byte) 'L');
        client.send(largest);
        assertThat(client.receive(ANSWER_MS)).as("the largest payload passes, whole").isEqualTo(largest);
        client.send(new byte[UdpFrame.MAX_PAYLOAD + 1]);
        open.awaitStderr(Pattern.compile("(?m)^udp-dropped 1 in the last 1 s \\(over " + UdpFrame.MAX_PAYLOAD
            + " bytes: 1\\)"));
        client.send("BIG " + UdpFrame.MAX_PAYLOAD);
        assertThat(client.receive(ANSWER_MS)).as("the largest reply passes").hasSize(UdpFrame.MAX_PAYLOAD);
        client.send("BIG " + (UdpFrame.MAX_PAYLOAD + 1));
        serve.awaitStderr(Pattern.compile("(?m)^udp-dropped 1 in the last 1 s \\(over " + UdpFrame.MAX_PAYLOAD
            + " bytes: 1\\)"));
        assertThat(client.roundTrip("after", 5, ANSWER_MS)).as("the flow carries on").isNotNull();
      }
    }
  }

  @Test
  void aClientTokenThatExpiredIsRefusedForUdp() throws Exception {
    // Expired before it dials: refused at once, like TCP's open.
    ServerToken server = ServerToken.decodeForServe(Files.readString(serverFile).strip(), "test", Instant.now());
    Instant now = Instant.now();
    Path expired = Derptun.file(dir, "expired.dtc",
        server.mintClient(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(3))).encode());
    Derphole early = Derptun.start(processes, dir, "open-expired", relay.mapFile(), "open", "--token-file",
        expired.toString(), "--udp", "127.0.0.1:0");
    early.assertExit(1, Duration.ofSeconds(60));
    assertThat(Derptun.oneLineError(early)).isEqualTo("the client token expired 2 days ago");

    // Expires while UDP flows: serve ends the connection, open does not get back in and exits.
    try (UdpEcho echo = new UdpEcho()) {
      Derphole serve = serve(relay.mapFile(), "--udp", "127.0.0.1:" + echo.port());
      Path shortLived = Derptun.file(dir, "short.dtc",
          server.mintClient(Instant.now().plus(Duration.ofSeconds(20)), Instant.now()).encode());
      Derphole open = open("open", relay.mapFile(), shortLived);
      int port = udpPort(open);
      try (UdpEcho.Client client = new UdpEcho.Client(port)) {
        assertThat(client.roundTrip("before expiry", 5, ANSWER_MS)).isNotNull();
        serve.awaitEvent("client-expired");
        open.assertExit(1, Duration.ofSeconds(90));
        assertThat(open.stderrLines().get(open.stderrLines().size() - 1)).startsWith("derptun: the client token expired");
        assertThat(serve.process.isAlive()).isTrue();
      }
    }
  }

  @Test
  void udpCarriesOnAfterARelayRestartWithNoLossOnceReconnected() throws Exception {
    Relay own = Relay.start(processes, dir.resolve("relay-1"), true);
    int relayPort = own.node().derpPort();
    Path server = Derptun.file(dir, "server.dts",
        Derptun.token(processes, dir, "token-server", own.mapFile(), "dts1_", "token", "server"));
    Path clientToken = Derptun.file(dir, "client.dtc", Derptun.token(processes, dir, "token-client", own.mapFile(),
        "dtc1_", "token", "client", "--token-file", server.toString()));
    try (UdpEcho echo = new UdpEcho()) {
      Derphole serve = serve(own.mapFile(), server, "--force-relay", "--udp", "127.0.0.1:" + echo.port());
      Derphole open = open("open", own.mapFile(), clientToken, "--force-relay");
      int port = udpPort(open);
      try (UdpEcho.Client client = new UdpEcho.Client(port)) {
        assertThat(client.roundTrip("before", 5, ANSWER_MS)).isNotNull();
        serve.awaitEvent("client-connected");
        long serveLinks = count(serve, "relay-connected");
        long openLinks = count(open, "relay-connected");

        // Datagrams keep coming during the outage; they may be lost.
        AtomicBoolean outage = new AtomicBoolean(true);
        Thread during = new Thread(() -> {
          for (int i = 0; outage.get(); i++) {
            try {
              client.send("during-" + i);
              Thread.sleep(20);
            } catch (Exception e) {
              return;
            }
          }
        });
        during.start();
        own.kill();
        serve.awaitEvent("relay-disconnected");
        open.awaitEvent("relay-disconnected");
        Relay.start(processes, dir.resolve("relay-2"), true, relayPort);
        // A first connection is reported only for serve's stable key: each leg's relay connection
        // (serve's and open's) reports its reconnects.
        DerptunFaultsIT.awaitEventCount(serve, "relay-connected", (int) serveLinks + 2);
        DerptunFaultsIT.awaitEventCount(open, "relay-connected", (int) openLinks + 1);
        outage.set(false);
        during.join();

        // Reconnected: every datagram from now on comes back, each sent once.
        for (int i = 0; i < 100; i++) {
          String sent = "after-" + i;
          client.send(sent);
          String got;
          do {
            byte[] r = client.receive(ANSWER_MS);
            assertThat(r).as("the echo of %s, sent after the tunnel reconnected", sent).isNotNull();
            got = new String(r, StandardCharsets.US_ASCII);
          } while (got.startsWith("during-"));
          assertThat(got).isEqualTo(sent);
        }
      }
    }
  }

  @Test
  void serveNeedsAServiceAndEachAddressAPort() throws Exception {
    String[][] cases = {
        {"give the service to forward to: --tcp HOST:PORT, --udp HOST:PORT or both", "serve", "--token-file",
            serverFile.toString()},
        {"--udp: needs a port, e.g. 127.0.0.1:51820", "serve", "--token-file", serverFile.toString(), "--udp",
            "127.0.0.1:0"},
        {"--udp-idle-timeout and --max-udp-flows must be at least 1", "open", "--token-file", clientFile.toString(),
            "--udp", "127.0.0.1:0", "--max-udp-flows", "0"},
    };
    for (String[] c : cases) {
      Derphole p = Derptun.start(processes, dir, c[1] + "-usage", relay.mapFile(), Arrays.copyOfRange(c, 1, c.length));
      p.assertExit(2, Duration.ofSeconds(60));
      assertThat(Derptun.oneLineError(p)).isEqualTo(c[0]);
      assertThat(p.stdout).isEmptyFile();
    }
  }
}
