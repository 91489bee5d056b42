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
 * derptun across the NAT lab: {@code serve} on host A (behind a port-restricted NAT) in front of a
 * TCP echo service, {@code open} on host B (the same kind), the tunnel direct. Then site B loses its
 * uplink for 20 s — relay included — and gets it back: the tunnel must come back by itself, new
 * connections must work again, and a connection that was open across the cut carries on.
 *
 * <p>No sleeping: the cut starts, {@code open}'s {@code --verbose} says the direct path is gone,
 * and for the rest of the 20 s the test keeps trying new connections that must all fail (the
 * condition that has to stay false); after the restore it waits for one to succeed.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DerptunNatLabIT {
  static final Duration CUT = Duration.ofSeconds(20);
  static final Duration WAIT = Duration.ofSeconds(60);
  static final String ECHO = """
      import socket, sys, threading
      s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
      s.bind(('127.0.0.1', 7000)); s.listen(64)
      def serve(c):
          while True:
              d = c.recv(65536)
              if not d: break
              c.sendall(d)
          c.close()
      while True:
          c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
      """;
  /** One new connection through open: exit 0 if the echo comes back within 3 s. */
  static final String PROBE = """
      import socket, sys
      c = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3)
      c.sendall(b'probe\\n')
      got = b''
      while not got.endswith(b'\\n'):
          d = c.recv(100)
          if not d: sys.exit(1)
          got += d
      sys.exit(0 if got == b'probe\\n' else 1)
      """;
  /** A connection held open across the cut: one line before, one after the file `go` appears. */
  static final String HOLD = """
      import os, socket, sys, time
      c = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=120)
      def line(text):
          c.sendall(text)
          got = b''
          while not got.endswith(b'\\n'):
              d = c.recv(100)
              if not d: raise SystemExit('closed')
              got += d
          print(got.decode().strip(), flush=True)
      line(b'before\\n')
      while not os.path.exists(sys.argv[2]): time.sleep(0.05)
      line(b'after\\n')
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

  private boolean probe(NatLab lab, int port) {
    try {
      lab.run(NatLab.Node.HOST_B, List.of("python3", dir.resolve("probe.py").toString(), Integer.toString(port)),
          Duration.ofSeconds(10));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void theTunnelComesBackAfterATwentySecondCut() throws Exception {
    Files.writeString(dir.resolve("echo.py"), ECHO);
    Files.writeString(dir.resolve("probe.py"), PROBE);
    Files.writeString(dir.resolve("hold.py"), HOLD);
    Path root = Path.of(System.getProperty("derphole.root", ".")).toAbsolutePath();
    String derptun = "env DERPHOLE_DERP_MAP=" + dir.resolve("map.json") + " " + root.resolve("bin/derptun");
    try (NatLab lab = NatLab.up(NatLab.Kind.EIM_APDF, NatLab.Kind.EIM_APDF)) {
      start(lab, NatLab.Node.INET, "relay", root.resolve("bin/derper") + " --listen " + NatLab.RELAY
          + ":8443 --stun-port 3478 --derp-map-out " + dir.resolve("map.json"));
      LabSession.await("the relay's map", () -> Files.exists(dir.resolve("map.json")));
      start(lab, NatLab.Node.HOST_A, "echo", "python3 echo.py");
      lab.run(NatLab.Node.HOST_A, List.of("sh", "-c", "cd " + dir + " && " + derptun
          + " token server --output server.dts && " + derptun + " token client --token-file server.dts --output client.dtc"),
          Duration.ofSeconds(60));
      start(lab, NatLab.Node.HOST_A, "serve", derptun + " --verbose serve --token-file server.dts --tcp 127.0.0.1:7000");
      start(lab, NatLab.Node.HOST_B, "open", derptun + " --verbose open --token-file client.dtc --listen 127.0.0.1:2222");
      LabSession.await("open's tunnel, direct", () -> read("open.err").contains("connected-direct")
          && read("open.err").contains("tunnel-up"));
      assertThat(probe(lab, 2222)).as("a connection through the tunnel; open:%n%s", read("open.err")).isTrue();
      start(lab, NatLab.Node.HOST_B, "hold", "python3 hold.py 2222 " + dir.resolve("go"));
      LabSession.await("the held connection's first echo", () -> read("hold.out").contains("before"));

      long cutAt = System.nanoTime();
      lab.isolate(NatLab.Site.B);
      LabSession.await("open to notice the direct path is gone",
          () -> read("open.err").lines().anyMatch(l -> l.startsWith("connected-relay (nothing from")));
      // The rest of the cut: nothing gets through (a probe that succeeded would mean no cut at all).
      while (System.nanoTime() - cutAt < CUT.toNanos()) {
        assertThat(probe(lab, 2222)).as("a connection during the cut").isFalse();
      }
      lab.rejoin();

      long deadline = System.nanoTime() + WAIT.toNanos();
      boolean back = false;
      while (!back && System.nanoTime() < deadline) {
        back = probe(lab, 2222);
      }
      assertThat(back).as("a new connection after the cut; open:%n%s%nserve:%n%s", read("open.err"), read("serve.err"))
          .isTrue();
      Files.writeString(dir.resolve("go"), "");
      LabSession.await("the held connection's second echo", () -> read("hold.out").contains("after")
          || !read("hold.err").isEmpty());
      assertThat(read("hold.out")).as("the connection open across the cut; hold.err: %s; open:%n%s", read("hold.err"),
          read("open.err")).isEqualTo("before\nafter\n");
    }
  }
}
