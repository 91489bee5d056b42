package dev.derphole.cli.natlab;

import static dev.derphole.cli.natlab.NatLab.Kind.EIM_APDF;
import static dev.derphole.cli.natlab.NatLab.Kind.SYMMETRIC;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * listen/pipe across the NAT lab with IPv6 (lab.sh --ipv6, docs/nat-lab.md): a site with IPv6 has
 * a global /64 behind its router's stateful firewall, beside IPv4 behind the NAT as before. The
 * relay listens on both families and the DERP map both sides use says which of its addresses exist.
 */
class NatLabIpv6IT {
  @TempDir Path dir;

  @BeforeAll
  static void lab() {
    NatLab.assumeAvailable();
  }

  /** The relay's node in the map with these addresses ("" for none). */
  static UnaryOperator<JsonNode> relayAt(String ipv4, String ipv6) {
    return map -> {
      for (JsonNode region : map.path("Regions")) {
        for (JsonNode node : region.path("Nodes")) {
          ((ObjectNode) node).put("IPv4", ipv4).put("IPv6", ipv6);
        }
      }
      return map;
    };
  }

  static final UnaryOperator<JsonNode> BOTH_FAMILIES = relayAt(NatLab.RELAY, NatLab.RELAY6);

  /** Two symmetric NATs cannot punch over IPv4; over IPv6 both firewalls open for a simultaneous send. */
  @Test
  void symmetricNatsOnBothSidesWithIpv6OnBothGoDirectOverIpv6() throws Exception {
    try (NatLab lab = NatLab.up(SYMMETRIC, SYMMETRIC, NatLab.Options.NONE, Set.of(NatLab.Site.A, NatLab.Site.B));
         LabSession s = new LabSession(lab, dir, BOTH_FAMILIES)) {
      s.send(2 << 20);
      s.awaitListenEvent("connected-direct", 1);
      assertThat(s.read("listen.err")).as("the direct path is pipe's IPv6 address")
          .containsPattern("(?m)^connected-direct \\[2001:db8:b::2\\]:\\d+ rtt=");
      s.send(8 << 20);
      s.finish();
      System.out.printf("NAT symmetric–symmetric with IPv6: direct over IPv6, promoted %.3f s after the claim%n",
          s.promotionSeconds());
    }
  }

  /** IPv6 on one side only is no path: the pair is as the IPv4 matrix says (symmetric × symmetric: relay). */
  @Test
  void ipv6OnOneSideOnlyLeavesThePairAsTheIpv4MatrixSays() throws Exception {
    try (NatLab lab = NatLab.up(SYMMETRIC, SYMMETRIC, NatLab.Options.NONE, Set.of(NatLab.Site.A));
         LabSession s = new LabSession(lab, dir, BOTH_FAMILIES)) {
      s.send(2 << 20);
      s.awaitListenEvent("connected-relay", 1);
      Thread.sleep(NatMatrixIT.NO_DIRECT_WINDOW.toMillis()); // proving absence: probing runs all this time
      assertThat(s.direct()).as("no direct path; listen said:%n%s", s.read("listen.err")).isFalse();
      s.send(2 << 20);
      s.finish();
    }
  }

  /** A relay node with only an IPv6 address in the map: both ends reach it, and the transfer goes through it. */
  @Test
  void aRelayWithOnlyAnIpv6AddressInTheMapIsReachedByBothEnds() throws Exception {
    try (NatLab lab = NatLab.up(EIM_APDF, EIM_APDF, NatLab.Options.NONE, Set.of(NatLab.Site.A, NatLab.Site.B));
         LabSession s = new LabSession(lab, dir, relayAt("", NatLab.RELAY6), "--force-relay")) {
      s.send(2 << 20);
      s.awaitListenEvent("connected-relay", 1);
      s.send(2 << 20);
      s.finish(); // the map gives no other way to the relay, and the token carries its IPv6 address only
    }
  }

  /** The relay's IPv4 address is black-holed before anyone dials it: Happy Eyeballs takes the IPv6 path. */
  @Test
  void aRelayWhoseIpv4AddressIsBlackHoledIsReachedOverIpv6() throws Exception {
    try (NatLab lab = NatLab.up(EIM_APDF, EIM_APDF, NatLab.Options.NONE, Set.of(NatLab.Site.A, NatLab.Site.B))) {
      lab.relayIpv4(false);
      try (LabSession s = new LabSession(lab, dir, BOTH_FAMILIES, "--force-relay")) {
        s.send(2 << 20);
        s.awaitListenEvent("connected-relay", 1);
        s.send(2 << 20);
        s.finish();
      }
    }
  }

  /** The IPv6 direct path dies mid-transfer (symmetric NATs: no IPv4 one): back to the relay, everything arrives. */
  @Test
  void anIpv6DirectPathCutMidTransferFallsBackAndTheTransferCompletesIntact() throws Exception {
    try (NatLab lab = NatLab.up(SYMMETRIC, SYMMETRIC, NatLab.Options.NONE, Set.of(NatLab.Site.A, NatLab.Site.B));
         LabSession s = new LabSession(lab, dir, BOTH_FAMILIES)) {
      s.send(1 << 20);
      s.awaitListenEvent("connected-direct", 1);
      lab.cutDirect6();
      s.send(4 << 20); // on its way while the direct path dies under it
      s.awaitListenEvent("connected-relay", 2); // the fallback
      s.send(4 << 20);
      s.finish();
    }
  }

  /**
   * Both families go direct (port-restricted NATs punch over IPv4; IPv6 opens both firewalls).
   * With 20 ms on each uplink both round trips are about 80 ms, so neither family is faster by
   * DirectPath's margin: IPv6 is used (preferred when about as fast, whichever answered first).
   * When it is cut mid-transfer the session moves to IPv4 direct without the relay in between,
   * intact. (Without the delay the two round trips are a few ms, and noise alone can make IPv4
   * the faster one and take it before the cut.)
   */
  @Test
  void anIpv6DirectPathCutMidTransferMovesToIpv4DirectWhenThatWorks() throws Exception {
    try (NatLab lab = NatLab.up(EIM_APDF, EIM_APDF, NatLab.Options.NONE.withDelay(java.time.Duration.ofMillis(20)),
             Set.of(NatLab.Site.A, NatLab.Site.B));
         LabSession s = new LabSession(lab, dir, BOTH_FAMILIES)) {
      s.send(1 << 20);
      String overIpv6 = "connected-direct [2001:db8:b::2]:";
      LabSession.await("direct over IPv6 as listen's latest path", () -> s.read("listen.err").lines()
          .filter(l -> l.startsWith("connected-")).reduce((a, b) -> b).orElse("").startsWith(overIpv6));
      lab.cutDirect6();
      s.send(4 << 20); // on its way while the IPv6 path dies under it
      try {
        LabSession.await("direct over IPv4 after the cut", () -> after(s.read("listen.err"), overIpv6)
            .lines().anyMatch(l -> l.startsWith("connected-direct 198.51.100.20:")));
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; listen said:\n" + s.read("listen.err"), e);
      }
      s.send(4 << 20);
      s.finish();
      String since = after(s.read("listen.err"), overIpv6);
      assertThat(since.lines().filter(l -> l.startsWith("connected-relay")).toList())
          .as("no relay between IPv6 and IPv4 direct; listen said:%n%s", s.read("listen.err")).isEmpty();
      System.out.printf("NAT eim-apdf × eim-apdf with IPv6, IPv6 cut: %s%n",
          since.lines().filter(l -> l.startsWith("connected-direct 198.51.100.20:")).findFirst().orElseThrow());
    }
  }

  /** What {@code log} says from the first line that starts with {@code line} on (that line excluded). */
  private static String after(String log, String line) {
    int at = log.indexOf("\n" + line);
    if (at < 0) {
      return "";
    }
    int end = log.indexOf('\n', at + 1);
    return end < 0 ? "" : log.substring(end + 1);
  }
}
