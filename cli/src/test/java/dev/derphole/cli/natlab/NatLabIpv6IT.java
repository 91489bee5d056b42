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
}
