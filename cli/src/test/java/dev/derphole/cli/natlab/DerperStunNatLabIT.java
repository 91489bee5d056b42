package dev.derphole.cli.natlab;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code derper} on every address of a host that has several (the lab's internet: 198.51.100.1
 * to .4 and 2001:db8:ff::1 and ::2) answers STUN from the address each request went to. A client
 * whose socket is connected to the server (as any NAT's filter is) takes nothing else.
 */
class DerperStunNatLabIT {
  /** Asks each ADDR PORT pair over a connected UDP socket; prints "answered ADDR" or "silent ADDR". */
  static final String ASK = String.join("\n",
      "import os, socket, sys",
      "args = sys.argv[1:]",
      "for host, port in zip(args[::2], args[1::2]):",
      "    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)",
      "    s.connect((host, int(port)))",
      "    s.settimeout(0.5)",
      "    got = False",
      "    for _ in range(4):",
      "        s.send(b'\\x00\\x01\\x00\\x00\\x21\\x12\\xa4\\x42' + os.urandom(12))",
      "        try:",
      "            got = s.recv(2048)[:2] == b'\\x01\\x01'",
      "            break",
      "        except (socket.timeout, ConnectionRefusedError):",
      "            pass",
      "    print(('answered ' if got else 'silent ') + host, flush=True)");

  @TempDir Path dir;

  @BeforeAll
  static void lab() {
    NatLab.assumeAvailable();
  }

  @Test
  void onEveryAddressEachAddressAnswersStunFromItself() throws Exception {
    try (NatLab lab = NatLab.up(NatLab.Kind.NONE, NatLab.Kind.NONE, NatLab.Options.NONE, Set.of(NatLab.Site.A))) {
      Path root = Path.of(System.getProperty("derphole.root", ".")).toAbsolutePath();
      Path map = dir.resolve("map.json");
      Process relay = lab.exec(NatLab.Node.INET, List.of("sh", "-c", "exec " + root.resolve("bin/derper")
          + " --dev --listen :8443 --stun-port 3478 --derp-map-out " + map + " 2> " + dir.resolve("relay.err")));
      try {
        LabSession.await("the relay's map", () -> Files.exists(map));
        String answers = lab.run(NatLab.Node.HOST_A, List.of("python3", "-c", ASK,
            NatLab.RELAY, "3478", NatLab.SECOND_SERVER, "3478", NatLab.RELAY6, "3478", "2001:db8:ff::2", "3478"),
            Duration.ofSeconds(30));
        assertThat(answers.lines().toList()).as("relay's stderr: %s", Files.readString(dir.resolve("relay.err")))
            .containsExactly("answered " + NatLab.RELAY, "answered " + NatLab.SECOND_SERVER,
                "answered " + NatLab.RELAY6, "answered 2001:db8:ff::2");
      } finally {
        relay.destroyForcibly();
        relay.waitFor();
      }
    }
  }
}
