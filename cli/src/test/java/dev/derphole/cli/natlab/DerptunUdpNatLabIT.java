package dev.derphole.cli.natlab;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * derptun's UDP forwarding across the NAT lab: {@code serve --udp} on host A in front of a UDP echo
 * service, {@code open --udp} on host B. A flow goes direct once the path is promoted (the relay is
 * then killed and the flow carries on), and over impaired uplinks (50 ms delay and 2 % loss on
 * each) the tunnel loses about what the link loses, measured in the same run between the same
 * hosts without the tunnel.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class DerptunUdpNatLabIT {
  static final String ECHO = """
      import socket
      s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      s.bind(('0.0.0.0', 7001))
      while True:
          d, a = s.recvfrom(65536)
          s.sendto(d, a)
      """;
  /**
   * {@code count} numbered 1200-byte datagrams to host:port, one every {@code gap} seconds, then
   * prints how many distinct ones came back (within 3 s of the last).
   */
  static final String COUNT = """
      import socket, sys, time
      host, port, count, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
      s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setblocking(False)
      seen = set(); start = time.monotonic()
      def drain():
          while True:
              try: d = s.recv(65536)
              except (BlockingIOError, ConnectionRefusedError): return
              if len(d) == 1200: seen.add(int(d[:8]))
      for i in range(count):
          while time.monotonic() < start + i * gap: time.sleep(0.001); drain()
          s.sendto(b'%08d' % i + b'x' * 1192, (host, port))
          drain()
      end = time.monotonic() + 3
      while time.monotonic() < end: time.sleep(0.01); drain()
      print(len(seen), flush=True)
      """;

  @TempDir Path dir;

  @BeforeAll
  static void lab() {
    NatLab.assumeAvailable();
  }

  private Process start(NatLab lab, NatLab.Node node, String name, String command) throws IOException {
    return lab.exec(node, List.of("sh", "-c", "cd " + dir + " && exec " + command + " > " + name + ".out 2> "
        + name + ".err < /dev/null"));
  }

  private String read(String file) throws IOException {
    Path p = dir.resolve(file);
    return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
  }

  /** Datagrams of {@code count} sent from host B to host:port that came back. */
  private int echoes(NatLab lab, String host, int port, int count, double gap) throws IOException {
    String out = lab.run(NatLab.Node.HOST_B, List.of("python3", dir.resolve("count.py").toString(), host,
        Integer.toString(port), Integer.toString(count), Double.toString(gap)), Duration.ofSeconds(120));
    return Integer.parseInt(out.strip());
  }

  /** Relay, echo, tokens, serve on host A and open on host B; returns open's UDP port once the tunnel is direct. */
  private int tunnel(NatLab lab, Process[] relay) throws Exception {
    Files.writeString(dir.resolve("echo.py"), ECHO);
    Files.writeString(dir.resolve("count.py"), COUNT);
    Path root = Path.of(System.getProperty("derphole.root", ".")).toAbsolutePath();
    String derptun = "env DERPHOLE_DERP_MAP=" + dir.resolve("map.json") + " " + root.resolve("bin/derptun");
    relay[0] = start(lab, NatLab.Node.INET, "relay", root.resolve("bin/derper") + " --listen " + NatLab.RELAY
        + ":8443 --stun-port 3478 --derp-map-out " + dir.resolve("map.json"));
    LabSession.await("the relay's map", () -> Files.exists(dir.resolve("map.json")));
    start(lab, NatLab.Node.HOST_A, "echo", "python3 echo.py");
    lab.run(NatLab.Node.HOST_A, List.of("sh", "-c", "cd " + dir + " && " + derptun
        + " token server --output server.dts && " + derptun + " token client --token-file server.dts --output client.dtc"),
        Duration.ofSeconds(60));
    start(lab, NatLab.Node.HOST_A, "serve", derptun + " --verbose serve --token-file server.dts --udp 127.0.0.1:7001");
    start(lab, NatLab.Node.HOST_B, "open", derptun + " --verbose open --token-file client.dtc --udp 127.0.0.1:5300");
    try {
      LabSession.await("open's tunnel, direct", () -> read("open.err").contains("connected-direct")
          && read("open.err").contains("listening on udp 127.0.0.1:5300"));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; open:\n" + read("open.err") + "\nserve:\n" + read("serve.err"), e);
    }
    return 5300;
  }

  @Test
  void aUdpFlowGoesDirectAndCarriesOnWithoutTheRelay() throws Exception {
    try (NatLab lab = NatLab.up(NatLab.Kind.EIM_APDF, NatLab.Kind.EIM_APDF)) {
      Process[] relay = new Process[1];
      int port = tunnel(lab, relay);
      // The flow's first datagram opens its socket on serve; once one echo is back, none may be lost.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (echoes(lab, "127.0.0.1", port, 1, 0) == 0) {
        assertThat(System.nanoTime()).as("a first echo through the tunnel; open:%n%s%nserve:%n%s",
            read("open.err"), read("serve.err")).isLessThan(deadline);
      }
      assertThat(echoes(lab, "127.0.0.1", port, 50, 0.01))
          .as("echoes through the tunnel; open:%n%s%nserve:%n%s", read("open.err"), read("serve.err")).isEqualTo(50);
      // Gone: the relay. A flow that still echoes runs on the direct path.
      relay[0].destroyForcibly().waitFor();
      LabSession.await("open to lose the relay", () -> read("open.err").contains("relay-disconnected"));
      assertThat(echoes(lab, "127.0.0.1", port, 200, 0.005))
          .as("echoes without the relay; open:%n%s%nserve:%n%s", read("open.err"), read("serve.err")).isEqualTo(200);
      assertThat(read("open.err")).doesNotContain("udp-dropped");
    }
  }

  @Test
  void overImpairedUplinksTheTunnelLosesAboutWhatTheLinkLoses() throws Exception {
    // No NAT: host B reaches host A's echo without the tunnel too, over the same impaired path.
    NatLab.Options impaired = NatLab.Options.NONE.withDelay(Duration.ofMillis(50)).withLoss("2");
    try (NatLab lab = NatLab.up(NatLab.Kind.NONE, NatLab.Kind.NONE, impaired)) {
      int port = tunnel(lab, new Process[1]);
      int n = 2000;
      int link = echoes(lab, NatLab.Site.A.wan, 7001, n, 0.005);
      int tunnel = echoes(lab, "127.0.0.1", port, n, 0.005);
      double linkLoss = 100.0 * (n - link) / n;
      double tunnelLoss = 100.0 * (n - tunnel) / n;
      // Each echo crosses four lossy hops (2 % each): about 7.8 % expected on both; sd about 0.6 each.
      assertThat(linkLoss).as("the link's own loss").isBetween(3.0, 14.0);
      assertThat(tunnelLoss).as("round-trip loss through the tunnel (%.2f %%) vs the link (%.2f %%); open:%n%s",
          tunnelLoss, linkLoss, read("open.err")).isLessThanOrEqualTo(linkLoss + 3.0);
      System.out.printf("UDP echo loss, 50 ms + 2 %% per uplink: link %.2f %%, tunnel %.2f %%%n", linkLoss, tunnelLoss);
    }
  }
}
