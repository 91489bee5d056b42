package dev.derphole.cli.natlab;

import static dev.derphole.cli.natlab.NatLab.Kind.EIM_APDF;
import static dev.derphole.cli.natlab.NatLab.Kind.UDP_BLOCKED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.cli.e2e.Tinyproxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corporate network in the lab: site A's router drops every TCP connection from its LAN to the
 * relay, and runs tinyproxy (Basic auth) on its LAN address. {@code derphole listen} on host A
 * with HTTPS_PROXY reaches the relay only through the proxy's CONNECT; the session still goes
 * direct where UDP allows it (eim-apdf on both sides), and completes on the relay through the
 * proxy where it does not (UDP blocked at site A).
 */
class HttpsProxyNatLabIT {
  static final int PROXY_PORT = 8888;
  static final String RELAY_PORT = "8443"; // LabSession's relay

  @TempDir Path dir;

  @BeforeAll
  static void lab() {
    NatLab.assumeAvailable();
    Tinyproxy.assumeInstalled();
  }

  @Test
  void throughTheProxyToTheRelayThenDirect() throws Exception {
    try (NatLab lab = NatLab.up(EIM_APDF, EIM_APDF)) {
      Tinyproxy proxy = corporate(lab);
      try (LabSession s = new LabSession(lab, java.nio.file.Files.createDirectories(dir.resolve("session")), proxyEnv())) {
        s.send(1 << 20);
        s.awaitListenEvent("connected-relay", 1);
        s.awaitListenEvent("connected-direct", 1);
        s.send(2 << 20);
        s.finish();
        assertConnected(proxy, s);
      }
    }
  }

  @Test
  void throughTheProxyOnTheRelayWhenUdpIsBlocked() throws Exception {
    try (NatLab lab = NatLab.up(UDP_BLOCKED, EIM_APDF)) {
      Tinyproxy proxy = corporate(lab);
      try (LabSession s = new LabSession(lab, java.nio.file.Files.createDirectories(dir.resolve("session")), proxyEnv())) {
        s.send(1 << 20);
        s.awaitListenEvent("connected-relay", 1);
        s.send(1 << 20);
        s.finish();
        assertThat(s.direct()).as("no UDP at site A: the relay carries it all; %s", s.read("listen.err")).isFalse();
        assertConnected(proxy, s);
      }
    }
  }

  private static Map<String, String> proxyEnv() {
    return Map.of("HTTPS_PROXY", "http://carol:corp-pw@" + NatLab.Site.A.routerLan + ":" + PROXY_PORT);
  }

  /** Router A: no TCP from the LAN to the relay (checked), and tinyproxy on its LAN address. */
  private Tinyproxy corporate(NatLab lab) throws Exception {
    lab.run(NatLab.Node.ROUTER_A, List.of("nft", "insert", "rule", "inet", "dhl", "forward",
        "iifname", "lan", "ip", "daddr", NatLab.RELAY, "tcp", "dport", RELAY_PORT, "drop"), Duration.ofSeconds(10));
    Path proxyDir = dir.resolve("proxy");
    Tinyproxy proxy = Tinyproxy.start(proxyDir, Tinyproxy.config(proxyDir, NatLab.Site.A.routerLan, PROXY_PORT,
        "10.1.0.0/24", "carol", "corp-pw"), cmd -> {
          try {
            return lab.exec(NatLab.Node.ROUTER_A, cmd);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
    // The relay's port is shut for host A: a direct TCP connect gets nowhere.
    Process p = lab.exec(NatLab.Node.HOST_A, List.of("timeout", "3", "bash", "-c",
        "exec 3<>/dev/tcp/" + NatLab.RELAY + "/" + RELAY_PORT));
    assertThat(p.waitFor()).as("host A cannot open TCP to the relay itself").isNotZero();
    return proxy;
  }

  private static void assertConnected(Tinyproxy proxy, LabSession s) throws IOException {
    assertThat(proxy.log()).as("the proxy carried listen's relay connection")
        .contains("CONNECT " + NatLab.RELAY + ":" + RELAY_PORT + " HTTP/1.1");
    assertThat(s.read("listen.err")).as("listen says it uses the proxy, without the password")
        .contains("proxy https through http://carol@10.1.0.1:" + PROXY_PORT + " (HTTPS_PROXY)")
        .doesNotContain("corp-pw");
  }
}
