package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpMapSource;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.map.DerpRegion;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real {@code bin/derper}s meshed into one region, and a listen/pipe of 200 MiB whose two
 * ends sit on different relays: the listener on the first node of its map, the pipe on the first
 * of its own (the same nodes, another order). The listener's relay is killed (SIGKILL) mid-stream;
 * the listener redials the next node, and the stream completes intact through the survivors.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class RelayMeshIT {
  static final Duration TRANSFER = Duration.ofSeconds(200);
  static final String MESH_KEY = "6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8";

  final Processes processes = new Processes();
  @TempDir Path dir;

  @AfterEach
  void stopProcesses() throws Exception {
    processes.close();
    processes.assertNoneLeft(Set.of());
  }

  @Test
  void aStreamBetweenEndsOnDifferentRelaysSurvivesTheDeathOfOne() throws Exception {
    Path psk = Files.writeString(dir.resolve("mesh.key"), MESH_KEY + "\n");
    List<Integer> ports = freePorts(3);
    List<Relay> relays = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      List<Integer> others = new ArrayList<>(ports);
      others.remove(i);
      relays.add(Relay.startMeshed(processes, dir.resolve("relay" + i), ports.get(i), others, psk));
    }
    DerpMap written = DerpMapSource.load(relays.get(0).mapFile().toString(), Duration.ofSeconds(5));
    List<DerpNode> nodes = written.regionsById().get(0).derpNodes();
    assertThat(nodes).as("every node of the mesh is in the map").hasSize(3);
    for (Relay r : relays) {
      assertThat(Files.readString(r.mapFile())).as("every relay writes the same map")
          .isEqualTo(Files.readString(relays.get(0).mapFile()));
    }
    // The pipe's map holds the same nodes with the second first: the two ends sit on different relays.
    List<DerpNode> reordered = new ArrayList<>(List.of(nodes.get(1), nodes.get(0), nodes.get(2)));
    DerpRegion region = written.regionsById().get(0);
    Path pipeMap = Files.writeString(dir.resolve("pipe-map.json"), new DerpMap(new TreeMap<>(Map.of(region.regionId(),
        new DerpRegion(region.regionId(), region.regionCode(), region.regionName(), false, false, reordered))), false).toJson());
    Relay listenersRelay = relays.stream().filter(r -> r.node().derpPort() == nodes.get(0).derpPort()).findFirst().orElseThrow();

    Path input = Bytes.randomFile(dir.resolve("random.in"), 200L << 20, 30_301L);
    Derphole listen = Derphole.start(processes, dir, "listen", relays.get(0).mapFile(), Path.of("/dev/null"),
        "listen", "--force-relay");
    String token = listen.awaitToken();
    Derphole pipe = Derphole.start(processes, dir, "pipe", pipeMap, input, "pipe", "--force-relay", token);

    long deadline = System.nanoTime() + TRANSFER.toNanos();
    while (Files.size(listen.stdout) < (16L << 20)) {
      assertThat(System.nanoTime()).as("16 MiB arrive before the relay is killed").isLessThan(deadline);
      assertThat(listen.process.isAlive() || Files.size(listen.stdout) >= (16L << 20)).isTrue();
      Thread.sleep(10);
    }
    listenersRelay.kill();
    long atKill = Files.size(listen.stdout);

    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(atKill).as("the relay died mid-stream").isLessThan(Files.size(input));
    assertThat(Bytes.sha256(listen.stdout)).as("SHA-256 of the listener's stdout").isEqualTo(Bytes.sha256(input));
  }

  /**
   * derptun serve and open with a region of two meshed nodes whose first node, the one the tokens
   * name, is dead: both take the next node in map order (as Tailscale's clients do) and the tunnel
   * carries a TCP echo. With serve dialing only the token's node it never comes up.
   */
  @Test
  void derptunServesThroughTheSecondNodeWhenTheFirstIsDead() throws Exception {
    Path psk = Files.writeString(dir.resolve("mesh.key"), MESH_KEY + "\n");
    List<Integer> ports = freePorts(2);
    List<Relay> relays = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      relays.add(Relay.startMeshed(processes, dir.resolve("relay" + i), ports.get(i), List.of(ports.get(1 - i)), psk));
    }
    Path map = relays.get(0).mapFile();
    List<DerpNode> nodes = DerpMapSource.load(map.toString(), Duration.ofSeconds(5)).regionsById().get(0).derpNodes();
    assertThat(nodes).hasSize(2);
    relays.stream().filter(r -> r.node().derpPort() == nodes.get(0).derpPort()).findFirst().orElseThrow().kill();

    try (java.net.ServerSocket echo = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
      Thread echoes = new Thread(() -> {
        try (java.net.Socket s = echo.accept()) {
          s.getInputStream().transferTo(s.getOutputStream());
        } catch (java.io.IOException e) {
          // the test ends it
        }
      }, "echo");
      echoes.setDaemon(true);
      echoes.start();
      Path server = Derptun.file(dir, "server.dts", Derptun.token(processes, dir, "token-server", map, "dts1_", "token", "server"));
      Path client = Derptun.file(dir, "client.dtc", Derptun.token(processes, dir, "token-client", map, "dtc1_",
          "token", "client", "--token-file", server.toString()));
      Derphole serve = Derptun.start(processes, dir, "serve", map, "--verbose", "serve", "--force-relay",
          "--token-file", server.toString(), "--tcp", "127.0.0.1:" + echo.getLocalPort());
      serve.awaitEvent("relay-connected");
      Derphole open = Derptun.start(processes, dir, "open", map, "--verbose", "open", "--force-relay",
          "--token-file", client.toString());
      int port = Derptun.listeningPort(open);
      try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
        s.setSoTimeout((int) TRANSFER.toMillis());
        s.getOutputStream().write("through the second node\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        byte[] back = s.getInputStream().readNBytes("through the second node\n".length());
        assertThat(new String(back, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("through the second node\n");
      }
    }
  }

  private static List<Integer> freePorts(int n) throws Exception {
    List<ServerSocket> held = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        held.add(s);
        ports.add(s.getLocalPort());
      }
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
    return ports;
  }
}
