package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpMapSource;
import dev.derphole.derp.map.DerpNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real {@code bin/derper} on 127.0.0.1 with a free port, self-signed TLS (the map it writes pins
 * the certificate) or plain HTTP. {@link #start} returns once the relay has written its DERP map,
 * which it does only after it listens.
 */
final class Relay {
  static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final Process process;
  private final Path mapFile;
  private final Path stderr;
  private final DerpNode node;

  private Relay(Process process, Path mapFile, Path stderr, DerpNode node) {
    this.process = process;
    this.mapFile = mapFile;
    this.stderr = stderr;
    this.node = node;
  }

  static Relay start(Processes processes, Path dir, boolean plainHttp) throws Exception {
    return start(processes, dir, plainHttp, 0);
  }

  /** On a given TCP port (0: any free one): a restarted relay comes back where its clients look for it. */
  static Relay start(Processes processes, Path dir, boolean plainHttp, int port) throws Exception {
    List<String> args = new ArrayList<>(List.of("--listen", "127.0.0.1:" + port, "--stun-port", "0"));
    if (plainHttp) {
      args.add("--plain-http");
    }
    Relay relay = launch(processes, dir, args, nodes -> nodes.get(0));
    assertThat(relay.node.plainHttp()).isEqualTo(plainHttp);
    return relay;
  }

  /**
   * One plain-HTTP relay of a meshed region on {@code port}, dialing the relays on {@code peerPorts}
   * with the key in {@code pskFile}; the map it writes lists every node of the region.
   */
  static Relay startMeshed(Processes processes, Path dir, int port, List<Integer> peerPorts, Path pskFile) throws Exception {
    StringBuilder peers = new StringBuilder();
    for (int p : peerPorts) {
      peers.append(peers.length() == 0 ? "" : ",").append("127.0.0.1:").append(p);
    }
    return launch(processes, dir, List.of("--listen", "127.0.0.1:" + port, "--stun-port", "-1", "--plain-http",
        "--mesh-with", peers.toString(), "--mesh-psk-file", pskFile.toString()),
        nodes -> nodes.stream().filter(n -> n.derpPort() == port).findFirst().orElseThrow());
  }

  /** Starts {@code derper ARGS --derp-map-out}, waits for its map, and picks this relay's node from it. */
  private static Relay launch(Processes processes, Path dir, List<String> args,
      java.util.function.Function<List<DerpNode>, DerpNode> self) throws Exception {
    Files.createDirectories(dir);
    Path mapFile = dir.resolve("derp-map.json");
    Path stderr = dir.resolve("derper.stderr");
    List<String> cmd = new ArrayList<>(List.of(Processes.bin("derper").toString()));
    cmd.addAll(args);
    cmd.addAll(List.of("--derp-map-out", mapFile.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(dir.resolve("derper.stdout").toFile())
        .redirectError(stderr.toFile());
    Derphole.cleanEnvironment(pb);
    Process p = processes.start(pb);
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!Files.exists(mapFile)) {
      if (!p.isAlive()) {
        fail("derper exited with %d before writing its map; stderr:%n%s", p.exitValue(), read(stderr));
      }
      if (System.nanoTime() > deadline) {
        fail("derper wrote no map within %s; stderr:%n%s", START_TIMEOUT, read(stderr));
      }
      Thread.sleep(20);
    }
    DerpMap map = DerpMapSource.load(mapFile.toString(), Duration.ofSeconds(5));
    return new Relay(p, mapFile, stderr, self.apply(map.regionsById().get(0).derpNodes()));
  }

  Path mapFile() {
    return mapFile;
  }

  /** The relay's node as its map describes it: dial it with {@code DerpEndpoint.of(node())}. */
  DerpNode node() {
    return node;
  }

  /** Kills the relay (SIGKILL, no goodbye to its clients) and waits until it is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String stderr() {
    return read(stderr);
  }

  static String read(Path file) {
    try {
      return Files.exists(file) ? new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.UTF_8) : "";
    } catch (java.io.IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
