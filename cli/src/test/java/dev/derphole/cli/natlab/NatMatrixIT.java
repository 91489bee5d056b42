package dev.derphole.cli.natlab;

import static dev.derphole.cli.natlab.NatLab.Kind.EIM_APDF;
import static dev.derphole.cli.natlab.NatLab.Kind.EIM_EIF;
import static dev.derphole.cli.natlab.NatLab.Kind.SYMMETRIC;
import static dev.derphole.cli.natlab.NatLab.Kind.UDP_BLOCKED;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * listen/pipe across pairs of NAT kinds in the lab (docs/nat-lab.md). Every transfer must arrive
 * intact; the path must become direct wherever hole punching can work (both sides
 * endpoint-independent mapping, or one side endpoint-independent filtering) and must stay on the
 * relay, still completing, where it cannot. Needs root and the lab's tools: .ci/run installs them;
 * outside CI it is skipped with the reason.
 */
class NatMatrixIT {
  /** How long a relay-only pair gets to prove it does not go direct: 5 probe rounds and more. */
  static final Duration NO_DIRECT_WINDOW = Duration.ofSeconds(6);
  /** Issue #4's impaired uplinks: 50 ms delay and 2 % loss. */
  static final NatLab.Options IMPAIRED = NatLab.Options.NONE.withDelay(Duration.ofMillis(50)).withLoss("2");

  @TempDir Path dir;

  @BeforeAll
  static void lab() {
    NatLab.assumeAvailable();
  }

  static Stream<Arguments> pairs() {
    return Stream.of(
        Arguments.of(EIM_EIF, EIM_EIF, true),
        Arguments.of(EIM_EIF, EIM_APDF, true),
        Arguments.of(EIM_APDF, EIM_EIF, true),
        Arguments.of(EIM_APDF, EIM_APDF, true),
        Arguments.of(EIM_EIF, SYMMETRIC, true),
        Arguments.of(SYMMETRIC, EIM_EIF, true),
        Arguments.of(EIM_APDF, SYMMETRIC, false),
        Arguments.of(SYMMETRIC, SYMMETRIC, false),
        Arguments.of(EIM_EIF, UDP_BLOCKED, false),
        Arguments.of(UDP_BLOCKED, EIM_APDF, false));
  }

  @ParameterizedTest(name = "listen behind {0}, pipe behind {1}: direct={2}")
  @MethodSource("pairs")
  void transfersArriveIntactOnTheBestPathThePairAllows(NatLab.Kind a, NatLab.Kind b, boolean direct) throws Exception {
    try (NatLab lab = NatLab.up(a, b); LabSession s = new LabSession(lab, dir)) {
      s.send(2 << 20);
      s.awaitListenEvent("connected-relay", 1);
      if (direct) {
        s.awaitListenEvent("connected-direct", 1);
        s.send(8 << 20); // goes on over the direct path
      } else {
        Thread.sleep(NO_DIRECT_WINDOW.toMillis()); // proving absence: probing runs all this time
        assertThat(s.direct()).as("no direct path for %s–%s; listen said:%n%s", a, b, s.read("listen.err")).isFalse();
        s.send(2 << 20);
      }
      s.finish();
      if (direct) {
        Files.writeString(dir.resolve("promotion.txt"), a + " " + b + " " + s.promotionSeconds());
        System.out.printf("NAT %s–%s: direct, promoted %.3f s after the claim%n", a, b, s.promotionSeconds());
      } else {
        System.out.printf("NAT %s–%s: relay (as expected)%n", a, b);
      }
    }
  }

  static Stream<Arguments> mappedPairs() {
    return Stream.of(
        Arguments.of(SYMMETRIC, EIM_APDF, NatLab.Site.A),
        Arguments.of(SYMMETRIC, SYMMETRIC, NatLab.Site.B));
  }

  /** A port mapping (UPnP-IGD, NAT-PMP or PCP from the router's miniupnpd) opens pairs that cannot punch. */
  @ParameterizedTest(name = "listen behind {0}, pipe behind {1}, port mapping on site {2}: direct")
  @MethodSource("mappedPairs")
  void aPortMappingMakesTheDirectPathPossible(NatLab.Kind a, NatLab.Kind b, NatLab.Site mapped) throws Exception {
    NatLab.assumeUpnp();
    try (NatLab lab = NatLab.up(a, b, NatLab.Options.NONE.withUpnp(mapped)); LabSession s = new LabSession(lab, dir)) {
      s.send(2 << 20);
      s.awaitListenEvent("connected-direct", 1);
      s.send(4 << 20);
      s.finish();
      String mappedSide = s.read(mapped == NatLab.Site.A ? "listen.err" : "pipe.err");
      assertThat(mappedSide).as("the mapped side advertised its port mapping").containsPattern(
          "(?m)^candidate 198\\.51\\.100\\.\\d+:\\d+ \\((pcp|nat-pmp|upnp)\\)");
      System.out.printf("NAT %s–%s with a mapping on %s: direct, promoted %.3f s after the claim%n", a, b, mapped,
          s.promotionSeconds());
    }
  }

  @Test
  void aCutDirectPathFallsBackToTheRelayAndIsPromotedAgainWhenItReturns() throws Exception {
    try (NatLab lab = NatLab.up(EIM_APDF, EIM_APDF); LabSession s = new LabSession(lab, dir)) {
      s.send(1 << 20);
      s.awaitListenEvent("connected-direct", 1);
      lab.cutDirect();
      s.send(4 << 20); // on its way while the direct path dies under it
      s.awaitListenEvent("connected-relay", 2); // the fallback
      s.send(4 << 20);
      lab.restoreDirect();
      s.awaitListenEvent("connected-direct", 2); // promoted again
      s.send(4 << 20);
      s.finish();
    }
  }

  @Test
  void lossOnBothUplinksStillDeliversEverything() throws Exception {
    try (NatLab lab = NatLab.up(EIM_APDF, EIM_APDF, NatLab.Options.NONE.withLoss("2"));
         LabSession s = new LabSession(lab, dir)) {
      s.send(1 << 20);
      s.awaitListenEvent("connected-direct", 1);
      s.send(8 << 20);
      s.finish();
    }
  }

  /**
   * Issue #4's fault case: 50 ms each way on each uplink (so 200 ms host to host, 100 ms to the
   * relay) and 2 % loss at each end of each uplink. The session starts on the relay, goes direct
   * over the long path, and delivers everything.
   */
  @Test
  void delayAndLossOnBothUplinksStillDeliversEverything() throws Exception {
    try (NatLab lab = NatLab.up(EIM_APDF, EIM_APDF, IMPAIRED); LabSession s = new LabSession(lab, dir)) {
      s.send(1 << 20);
      s.awaitListenEvent("connected-relay", 1);
      s.awaitListenEvent("connected-direct", 1);
      // The direct path's own measure crosses both delayed uplinks there and back.
      assertThat(s.directRttMillis()).isGreaterThanOrEqualTo(4 * IMPAIRED.delay().toMillis());
      s.send(8 << 20);
      s.finish();
      System.out.printf("delay and loss: direct (rtt %.1f ms), promoted %.3f s after the claim%n",
          s.directRttMillis(), s.promotionSeconds());
    }
  }

  /** The same impairments with the whole transfer on the relay: TCP through both delayed uplinks. */
  @Test
  void delayAndLossOnBothUplinksStillDeliversEverythingOverTheRelay() throws Exception {
    try (NatLab lab = NatLab.up(EIM_APDF, EIM_APDF, IMPAIRED);
         LabSession s = new LabSession(lab, dir, "--force-relay")) {
      s.send(1 << 20);
      s.awaitListenEvent("connected-relay", 1);
      s.send(1 << 20);
      s.finish();
      assertThat(s.direct()).isFalse();
    }
  }

  @Test
  void forceRelayStaysOnTheRelayEvenWhereDirectWouldWork() throws Exception {
    try (NatLab lab = NatLab.up(EIM_EIF, EIM_EIF); LabSession s = new LabSession(lab, dir, "--force-relay")) {
      s.send(1 << 20);
      s.awaitListenEvent("connected-relay", 1);
      Thread.sleep(NO_DIRECT_WINDOW.toMillis());
      assertThat(s.direct()).isFalse();
      s.finish();
    }
  }
}
