package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpMapSource;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.stun.StunClient;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.File;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The real {@code derper} as a separate process, used the way a self-hoster would. */
class DerperProcessTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private final List<Process> processes = new ArrayList<>();
  @TempDir Path dir;

  @AfterEach
  void stop() throws Exception {
    for (Process p : processes) {
      p.destroy();
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("derper exits on SIGTERM").isTrue();
    }
  }

  static Process java(Path dir, String mainClass, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectOutput(dir.resolve("stdout").toFile())
        .redirectError(dir.resolve("stderr").toFile())
        .start();
  }

  private Process derper(String... args) throws Exception {
    Process p = java(dir, "dev.derphole.cli.DerperCommand", args);
    processes.add(p);
    return p;
  }

  private DerpMap awaitMap(Process p, Path file) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!Files.exists(file)) {
      assertThat(p.isAlive()).as("derper still running; stderr: %s", stderr()).isTrue();
      assertThat(System.nanoTime()).as("derper wrote its map").isLessThan(deadline);
      Thread.sleep(20);
    }
    return DerpMapSource.load(file.toString(), Duration.ofSeconds(5));
  }

  private String stderr() throws Exception {
    File f = dir.resolve("stderr").toFile();
    return f.exists() ? Files.readString(f.toPath()) : "";
  }

  static final class Inbox implements DerpClientListener {
    final BlockingQueue<String> got = new LinkedBlockingQueue<>();

    @Override
    public void onPacket(NodePublicKey source, ByteBuf packet) {
      got.add(packet.toString(StandardCharsets.UTF_8));
    }
  }

  private void exchangeThrough(DerpNode node) throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      DerpEndpoint ep = DerpEndpoint.of(node);
      NodePrivateKey alice = NodePrivateKey.generate();
      NodePrivateKey bob = NodePrivateKey.generate();
      Inbox bobInbox = new Inbox();
      try (DerpClient a = DerpClient.connect(ep, alice, new Inbox(), group, DerpClient.Options.defaults());
           DerpClient b = DerpClient.connect(ep, bob, bobInbox, group, DerpClient.Options.defaults())) {
        a.send(bob.publicKey(), "through the real derper".getBytes(StandardCharsets.UTF_8));
        assertThat(bobInbox.got.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("through the real derper");
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  @Test
  void selfSignedTlsRelayWritesAMapThatClientsUseAsIs() throws Exception {
    Path mapFile = dir.resolve("map.json");
    Process p = derper("--listen", "127.0.0.1:0", "--stun-port", "0", "--derp-map-out", mapFile.toString());
    DerpMap map = awaitMap(p, mapFile);
    DerpNode node = map.regionsById().get(0).derpNodes().get(0);
    assertThat(node.certName()).startsWith("sha256-raw:");
    assertThat(node.plainHttp()).isFalse();
    exchangeThrough(node);

    try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      var mapped = StunClient.query(udp, new InetSocketAddress("127.0.0.1", node.effectiveStunPort().getAsInt()),
          Duration.ofSeconds(5));
      assertThat(mapped).contains((InetSocketAddress) udp.getLocalSocketAddress());
    }
    assertThat(Files.readString(dir.resolve("stdout"))).as("stdout stays empty without --print-derp-map").isEmpty();
  }

  @Test
  void onEveryAddressTheMapHasNoLiteralsAndOneLineSaysWhatToDo() throws Exception {
    Path mapFile = dir.resolve("map.json");
    Process p = derper("--plain-http", "--listen", ":0", "--hostname", "relay.example", "--stun-port", "0",
        "--derp-map-out", mapFile.toString());
    DerpNode node = awaitMap(p, mapFile).regionsById().get(0).derpNodes().get(0);
    assertThat(node.ipv4()).isEmpty();
    assertThat(node.ipv6()).isEmpty();
    assertThat(stderr().lines().filter(l -> l.startsWith("derper: the map's IPv4 and IPv6 are empty")).toList())
        .as("stderr: %s", stderr())
        .containsExactly("derper: the map's IPv4 and IPv6 are empty (--listen is every address): clients look up "
            + "relay.example in DNS; give --listen an address, or write the relay's addresses into the map's IPv4/IPv6");
    // STUN on every address: each loopback address answers (a connected socket takes answers from it alone).
    for (String host : List.of("127.0.0.1", "::1")) {
      try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(host, 0))) {
        InetSocketAddress server = new InetSocketAddress(host, node.effectiveStunPort().getAsInt());
        udp.connect(server);
        assertThat(StunClient.query(udp, server, Duration.ofSeconds(5))).as(host)
            .contains((InetSocketAddress) udp.getLocalSocketAddress());
      }
    }
  }

  @Test
  void plainHttpRelayIsMarkedInTheMap() throws Exception {
    Path mapFile = dir.resolve("map.json");
    Process p = derper("--plain-http", "--listen", "127.0.0.1:0", "--stun-port", "-1", "--derp-map-out", mapFile.toString());
    DerpNode node = awaitMap(p, mapFile).regionsById().get(0).derpNodes().get(0);
    assertThat(node.plainHttp()).isTrue();
    assertThat(node.effectiveStunPort()).isEmpty();
    exchangeThrough(node);
  }

  @Test
  void theNodeKeyPersistsInTheKeyFile() throws Exception {
    Path keyFile = dir.resolve("derper.key");
    Path map1 = dir.resolve("m1.json");
    Process first = derper("--plain-http", "--listen", "127.0.0.1:0", "--stun-port", "-1", "--key-file", keyFile.toString(),
        "--derp-map-out", map1.toString());
    awaitMap(first, map1);
    assertThat(Files.getPosixFilePermissions(keyFile)).extracting(Object::toString)
        .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
    String key = Files.readString(keyFile);
    assertThat(key).startsWith("{\"PrivateKey\":\"privkey:");
    String firstStderr = stderr();
    first.destroy();
    first.waitFor(10, TimeUnit.SECONDS);
    processes.remove(first);
    Path map2 = dir.resolve("m2.json");
    Process second = derper("--plain-http", "--listen", "127.0.0.1:0", "--stun-port", "-1", "--key-file", keyFile.toString(),
        "--derp-map-out", map2.toString());
    awaitMap(second, map2);
    String nodeKey = firstStderr.replaceAll("(?s).*node key (nodekey:[0-9a-f]{64}).*", "$1");
    assertThat(nodeKey).startsWith("nodekey:");
    assertThat(stderr()).contains(nodeKey);
    assertThat(Files.readString(keyFile)).isEqualTo(key);
  }

  @Test
  void badFlagsExitWithUsageErrorsOnOneLine() throws Exception {
    Process p = derper("--cert", "only-a-cert.pem");
    assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(stderr().strip()).isEqualTo("derper: --cert and --key go together");

    Process q = derper("--stun-port", "70000");
    assertThat(q.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(q.exitValue()).isEqualTo(2);
    processes.clear();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      --listen nonsense                       | derper: --listen: bad port "nonsense" in "nonsense"
      --listen 127.0.0.1:99999                | derper: --listen: port 99999 out of range in "127.0.0.1:99999"
      --rate-limit -1                         | derper: --rate-limit must be >= 0 bytes/s (0 = off), got -1
      --rate-burst 100000                     | derper: --rate-burst needs --rate-limit
      --rate-limit 1000000 --rate-burst 100   | derper: --rate-burst must be at least 65568 bytes (one largest frame), got 100
      --region-id 0                           | derper: --region-id must be positive, got 0
      --sender-pause-limit-ms -1              | derper: --sender-pause-limit-ms must be >= 0, got -1
      --max-conns-per-ip 0                    | derper: --max-conns-per-ip must be at least 1, got 0
      --idle-timeout-ms -5                    | derper: --idle-timeout-ms must be >= 0 (0 = off), got -5
      --write-timeout-ms -1                   | derper: --write-timeout-ms must be >= 0 (0 = off), got -1
      --cert missing.pem --key missing.key    | derper: --cert missing.pem: no such file or directory
      """)
  void aBadValueIsAUsageErrorBeforeAnythingIsWritten(String flags, String message) throws Exception {
    List<String> args = new ArrayList<>(List.of("--key-file", "relay-key.json", "--stun-port", "-1"));
    args.addAll(List.of(flags.split(" ")));
    Process p = derper(args.toArray(String[]::new));
    assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(stderr().strip()).isEqualTo(message);
    assertThat(dir.resolve("relay-key.json")).as("no key file for a command line that was refused").doesNotExist();
    processes.clear();
  }

  /** DERPHOLE_LOG=FINE is for our loggers: the JDK's stay quiet (146 CA certificate lines at FINE otherwise). */
  @Test
  void fineLoggingIsOursOnly() throws Exception {
    Path mapFile = dir.resolve("map.json");
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djava.util.logging.SimpleFormatter.format=%3$s|%4$s|%5$s%n", "-cp", System.getProperty("java.class.path"),
        "dev.derphole.cli.DerperCommand", "--listen", "127.0.0.1:0", "--stun-port", "-1", "--derp-map-out", mapFile.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectOutput(dir.resolve("stdout").toFile()).redirectError(dir.resolve("stderr").toFile());
    pb.environment().put("DERPHOLE_LOG", "FINE");
    Process p = pb.start();
    processes.add(p);
    exchangeThrough(awaitMap(p, mapFile).regionsById().get(0).derpNodes().get(0));
    p.destroy();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(stderr().lines().filter(l -> l.matches("[\\w.$]+\\|(FINE|FINER|FINEST|CONFIG)\\|.*")))
        .as("records below INFO").allMatch(l -> l.startsWith("dev.derphole."), "from dev.derphole loggers only");
  }

  @Test
  void aTakenPortIsOneLineInPlainWords() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      Process p = derper("--listen", "127.0.0.1:" + taken.getLocalPort(), "--stun-port", "-1");
      assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isEqualTo(1);
      assertThat(stderr().strip()).isEqualTo("derper: cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": Address already in use");
      processes.clear();
    }
  }

  @Test
  void aKeyFileThatCannotBeCreatedSaysWhereAndWhy() throws Exception {
    Process p = derper("--key-file", "no-such-dir/relay-key.json", "--listen", "127.0.0.1:0", "--stun-port", "-1");
    assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(1);
    assertThat(stderr().strip()).isEqualTo("derper: cannot create key file no-such-dir/relay-key.json: "
        + dir.resolve("no-such-dir").toAbsolutePath() + ": no such directory");
    processes.clear();
  }

  @Test
  void aTakenPortIsARuntimeErrorOnOneLine() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      Process p = derper("--plain-http", "--listen", "127.0.0.1:" + taken.getLocalPort(), "--stun-port", "-1");
      assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isEqualTo(1);
      String err = stderr().strip();
      assertThat(err).startsWith("derper: cannot listen on").doesNotContain("\n").doesNotContain("Exception");
      processes.clear();
    }
  }
}
