package dev.derphole.cli.natlab;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.cli.natlab.NatLab.Kind;
import dev.derphole.cli.natlab.NatLab.Node;
import dev.derphole.cli.natlab.NatLab.Options;
import dev.derphole.cli.natlab.NatLab.Site;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The NAT lab does what its labels say, shown with real packets: each kind maps and filters as
 * RFC 4787 names it, two port-restricted NATs can punch through until the direct path is cut,
 * miniupnpd's mappings let the internet in, delay and loss are where they are said to be, and
 * {@code close()} leaves nothing behind.
 */
class NatLabSelfIT {
  /** Echo servers on the internet: the one asked first, another port, another address. */
  private static final String FIRST = NatLab.RELAY + ":3478";
  private static final String OTHER_PORT = NatLab.RELAY + ":3479";
  private static final String OTHER_ADDRESS = NatLab.SECOND_SERVER + ":3478";
  private static final List<String> SERVERS = List.of(FIRST, OTHER_PORT, OTHER_ADDRESS);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(15);

  /** Per test rather than per class, so that every skipped test carries the reason. */
  @BeforeEach
  void labAvailable() {
    NatLab.assumeAvailable();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void eachKindMapsAndFiltersAsLabelled(Kind kind) throws Exception {
    try (NatLab lab = NatLab.up(kind, Kind.EIM_APDF)) {
      startServers(lab);
      String wan = Site.A.wan;
      Probe map = probe(lab, Node.HOST_A, "map", "--port", "40000", FIRST, OTHER_PORT,
          OTHER_ADDRESS);
      Probe poke = probe(lab, Node.HOST_A, "poke", "--port", "40001", FIRST);
      Probe tcp = probe(lab, Node.HOST_A, "tcp", FIRST);
      // TCP always gets out, translated to the site's WAN address.
      assertThat(tcp.mapped.get(FIRST)).startsWith(wan + ":");

      switch (kind) {
        case EIM_EIF -> {
          assertThat(map.mapped).containsOnly(
              Map.entry(FIRST, wan + ":40000"), Map.entry(OTHER_PORT, wan + ":40000"),
              Map.entry(OTHER_ADDRESS, wan + ":40000"));
          assertThat(poke.received).containsExactlyInAnyOrderElementsOf(SERVERS);
        }
        case EIM_APDF -> {
          assertThat(new HashSet<>(map.mapped.values())).hasSize(1);
          assertThat(map.mapped.get(FIRST)).startsWith(wan + ":");
          assertThat(map.mapped).hasSize(3);
          assertThat(poke.received).containsExactly(FIRST);
        }
        case SYMMETRIC -> {
          assertThat(map.mapped).hasSize(3);
          assertThat(map.mapped.values()).allMatch(m -> m.startsWith(wan + ":"));
          assertThat(map.mapped.get(OTHER_PORT)).isNotEqualTo(map.mapped.get(FIRST));
          assertThat(map.mapped.get(OTHER_ADDRESS)).isNotEqualTo(map.mapped.get(FIRST));
          assertThat(poke.received).containsExactly(FIRST);
        }
        case UDP_BLOCKED -> {
          assertThat(map.mapped).isEmpty();
          assertThat(map.timeouts).containsExactlyInAnyOrderElementsOf(SERVERS);
          assertThat(poke.received).isEmpty();
        }
        case NONE -> {
          String own = lab.hostAddress(Site.A) + ":40000";  // the WAN address: no router
          assertThat(new HashSet<>(map.mapped.values())).containsExactly(own);
          assertThat(map.mapped).hasSize(3);
          assertThat(poke.received).containsExactlyInAnyOrderElementsOf(SERVERS);
        }
      }
    }
  }

  /**
   * Both hosts send to each other's mapped address at once: whichever packet reaches the other
   * router first is dropped there, and the answer it provoked gets through. This only works
   * because routers drop unsolicited packets before conntrack keeps them (lab.sh).
   */
  @Test
  void twoPortRestrictedNatsPunchThroughUntilTheDirectPathIsCut() throws Exception {
    try (NatLab lab = NatLab.up(Kind.EIM_APDF, Kind.EIM_APDF)) {
      startServers(lab);
      assertThat(punch(lab, 41000)).isTrue();

      lab.cutDirect();
      assertThat(punch(lab, 41001)).isFalse();
      // The cut spares everything but the direct path.
      assertThat(probe(lab, Node.HOST_A, "map", FIRST).mapped).containsKey(FIRST);
      assertThat(probe(lab, Node.HOST_B, "tcp", FIRST).mapped).containsKey(FIRST);

      lab.restoreDirect();
      assertThat(punch(lab, 41002)).isTrue();
    }
  }

  @Test
  void upnpNatPmpAndPcpMappingsLetTheInternetIn() throws Exception {
    NatLab.assumeUpnp();
    Options upnpBoth = Options.NONE.withUpnp(Site.A).withUpnp(Site.B);
    try (NatLab lab = NatLab.up(Kind.EIM_APDF, Kind.SYMMETRIC, upnpBoth)) {
      for (Site site : Site.values()) {
        String router = site.routerLan;
        assertMapped(lab, site, 42000, "upnp", "42000", "60");
        assertMapped(lab, site, 42001, "natpmp", router, "42001", "60");
        assertMapped(lab, site, 42002, "pcp", router, "42002", "60");
        // And without a mapping, the router keeps the internet out.
        assertThat(reaches(lab, site, 42003)).isFalse();
      }
    }
  }

  /**
   * wire.py holds every frame for the delay, each way, on each uplink: host A's round trip to the
   * relay crosses site A's uplink twice, one to host B crosses both uplinks twice. Lower bounds
   * only: a loaded machine may add time, never take it away.
   */
  @Test
  void delayHoldsEveryFrameEachWayOnEachUplink() throws Exception {
    long delay = 50;
    int echoes = 20;
    try (NatLab lab = NatLab.up(Kind.EIM_APDF, Kind.NONE, Options.NONE.withDelay(Duration.ofMillis(delay)))) {
      startServers(lab);
      String hostB = Site.B.wan + ":3478";  // site B has no router: host B serves on its WAN address
      assertThat(firstLine(lab.exec(Node.HOST_B, NatLab.probe("serve", hostB)))).startsWith("serving");

      RoundTrips toRelay = roundTrips(lab, Node.HOST_A, FIRST, echoes);
      RoundTrips toHostB = roundTrips(lab, Node.HOST_A, hostB, echoes);
      System.out.printf("delay %d ms: A-relay %s, A-B %s%n", delay, toRelay, toHostB);
      // Every echo comes back: the wire loses nothing of its own.
      assertThat(toRelay.answered).isEqualTo(echoes);
      assertThat(toHostB.answered).isEqualTo(echoes);
      assertThat(toRelay.udpMillis).isGreaterThanOrEqualTo(2 * delay);
      assertThat(toRelay.tcpConnectMillis).isGreaterThanOrEqualTo(2 * delay);
      assertThat(toHostB.udpMillis).isGreaterThanOrEqualTo(4 * delay);
      assertThat(toHostB.tcpConnectMillis).isGreaterThanOrEqualTo(4 * delay);
    }
  }

  /**
   * {@code --loss} drops at ingress on both ends of each uplink, with or without the wire (which
   * reads frames before the ingress hook of its own devices, so the loss sits on the bridge port
   * there). An echo crosses site A's uplink out and back: with 30 % per crossing 49 % return,
   * 196 of 400 on average (sd 10). One lossy crossing would return 280, three 137, none 400.
   */
  @ParameterizedTest(name = "delay {0} ms")
  @ValueSource(ints = {0, 20})
  void lossDropsItsShareOnEachCrossingOfAnUplink(int delayMillis) throws Exception {
    Options options = Options.NONE.withLoss("30");
    if (delayMillis > 0) {
      options = options.withDelay(Duration.ofMillis(delayMillis));
    }
    try (NatLab lab = NatLab.up(Kind.EIM_APDF, Kind.EIM_APDF, options)) {
      startServers(lab);
      RoundTrips r = RoundTrips.parse(lab.run(Node.HOST_A, NatLab.probe("rtt", "--udp", "400", FIRST),
          PROBE_TIMEOUT));
      System.out.printf("loss 30 %%, delay %d ms: %d of 400 echoes back%n", delayMillis, r.answered);
      assertThat(r.answered).as("echoes back of 400 with 30 %% loss on each crossing").isBetween(150, 240);
    }
  }

  /** A delay lab.sh cannot make is one line on stderr and exit 1, and nothing is made. */
  @ParameterizedTest(name = "--delay ''{0}''")
  @ValueSource(strings = {"0", "50ms", "10000", "-5", "1.5", ""})
  void badDelayIsOneLineAndMakesNothing(String delay) throws Exception {
    // An id of its own: were the check broken, `up` would first take down the lab it names.
    String id = "jbad" + Long.toString(ProcessHandle.current().pid(), 36);
    ProcessBuilder up = new ProcessBuilder("bash", NatLab.directory() + "/lab.sh", "up",
        "eim-apdf", "eim-apdf", "--delay", delay).redirectErrorStream(true);
    up.environment().put("NATLAB_ID", id);
    try {
      Process p = up.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();

      assertThat(p.exitValue()).isEqualTo(1);
      assertThat(out).isEqualTo(
          "lab.sh: --delay takes whole milliseconds 1-9999, got '" + delay + "'\n");
      assertThat(namespaceNames()).noneMatch(n -> n.endsWith("-" + id));
      assertThat(Path.of("/run/dhl-natlab-" + id)).doesNotExist();
    } finally {
      up.command("bash", NatLab.directory() + "/lab.sh", "down").start().waitFor();
    }
  }

  @Test
  void closeLeavesNoNamespaceLinkOrProcessBehind() throws Exception {
    Set<String> linksBefore = rootLinks();
    // With the delay wire: its process, veths and tables must go too.
    Options delayed = Options.NONE.withDelay(Duration.ofMillis(5));
    NatLab lab = NatLab.up(Kind.EIM_EIF, Kind.SYMMETRIC,
        NatLab.support().upnpOk() ? delayed.withUpnp(Site.A) : delayed);
    List<String> namespaces = new ArrayList<>();
    List<ProcessHandle> processes = new ArrayList<>();
    try {
      startServers(lab);
      lab.exec(Node.HOST_B, List.of("sleep", "300"));  // a test's process, left running
      for (Node node : Node.values()) {
        namespaces.add(lab.namespace(node));
      }
      assertThat(namespaceNames()).containsAll(namespaces);
      assertThat(rootLinks()).isEqualTo(linksBefore);  // nothing is made outside the namespaces
      processes.addAll(processesIn(namespaces));
      assertThat(processes).hasSizeGreaterThanOrEqualTo(3);
      assertThat(processes).anyMatch(p -> p.info().arguments().stream().flatMap(Arrays::stream)
          .anyMatch(a -> a.endsWith("/wire.py")));
    } finally {
      lab.close();
    }
    lab.close();  // a second close is harmless

    assertThat(namespaceNames()).doesNotContainAnyElementsOf(namespaces);
    assertThat(rootLinks()).isEqualTo(linksBefore);
    assertThat(processes).noneMatch(NatLabSelfIT::running);
    assertThat(lab.stateDirectory()).doesNotExist();
  }

  // --- helpers ---

  /** probe.py's answer lines: "mapped SERVER IP:PORT", "timeout SERVER", "received SOURCE". */
  private record Probe(Map<String, String> mapped, Set<String> timeouts, List<String> received,
      List<String> external) {
    static Probe parse(String output) {
      Probe p = new Probe(new LinkedHashMap<>(), new HashSet<>(), new ArrayList<>(),
          new ArrayList<>());
      for (String line : output.split("\n")) {
        String[] w = line.strip().split(" ");
        switch (w[0]) {
          case "mapped" -> p.mapped.put(w[1], w[2]);
          case "timeout" -> p.timeouts.add(w[1]);
          case "received" -> p.received.add(w[1]);
          case "external" -> p.external.add(w[1]);
          default -> { }
        }
      }
      return p;
    }
  }

  /** probe.py rtt: "udp-rtt SERVER MIN_MS ANSWERED/SENT", "tcp-connect SERVER MS". */
  private record RoundTrips(double udpMillis, int answered, double tcpConnectMillis) {
    static RoundTrips parse(String output) {
      double udp = Double.NaN;
      int answered = 0;
      double tcp = Double.NaN;
      for (String line : output.split("\n")) {
        String[] w = line.strip().split(" ");
        switch (w[0]) {
          case "udp-rtt" -> {
            udp = w[2].equals("-") ? Double.NaN : Double.parseDouble(w[2]);
            answered = Integer.parseInt(w[3].split("/")[0]);
          }
          case "tcp-connect" -> tcp = Double.parseDouble(w[2]);
          default -> { }
        }
      }
      return new RoundTrips(udp, answered, tcp);
    }

    @Override
    public String toString() {
      return String.format("UDP %.1f ms (%d answered), TCP connect %.1f ms", udpMillis, answered,
          tcpConnectMillis);
    }
  }

  private static RoundTrips roundTrips(NatLab lab, Node node, String server, int echoes)
      throws IOException {
    return RoundTrips.parse(lab.run(node, NatLab.probe("rtt", String.valueOf(echoes), server),
        PROBE_TIMEOUT));
  }

  private static Probe probe(NatLab lab, Node node, String... args) throws IOException {
    return Probe.parse(lab.run(node, NatLab.probe(args), PROBE_TIMEOUT));
  }

  /** UDP and TCP echo servers in inet; close() stops them with the lab. */
  private static void startServers(NatLab lab) throws IOException {
    List<String> serve = new ArrayList<>(List.of("serve"));
    serve.addAll(SERVERS);
    Process server = lab.exec(Node.INET, NatLab.probe(serve.toArray(String[]::new)));
    String first = firstLine(server);
    assertThat(first).as("echo servers in inet").startsWith("serving");
  }

  private static String firstLine(Process p) throws IOException {
    var reader = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    return String.valueOf(reader.readLine());
  }

  /** Both hosts punch at each other's WAN address from {@code port}: did each hear the other? */
  private static boolean punch(NatLab lab, int port) throws Exception {
    String p = String.valueOf(port);
    List<String> a = NatLab.probe("punch", p, Site.B.wan + ":" + p, "1.5");
    List<String> b = NatLab.probe("punch", p, Site.A.wan + ":" + p, "1.5");
    Process fromA = lab.exec(Node.HOST_A, a);
    Probe heardByB = Probe.parse(lab.run(Node.HOST_B, b, PROBE_TIMEOUT));
    assertThat(fromA.waitFor(PROBE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    Probe heardByA = Probe.parse(new String(fromA.getInputStream().readAllBytes(),
        StandardCharsets.UTF_8));
    boolean aHeardB = heardByA.received.contains(Site.B.wan + ":" + p);
    boolean bHeardA = heardByB.received.contains(Site.A.wan + ":" + p);
    assertThat(aHeardB).as("one direction only: A heard B %s, B heard A %s", aHeardB, bHeardA)
        .isEqualTo(bHeardA);
    return aHeardB;
  }

  /** Maps {@code port} with one of probe.py's port-mapping clients; a packet proves the mapping. */
  private static void assertMapped(NatLab lab, Site site, int port, String... client)
      throws IOException {
    Probe answer = probe(lab, site.host(), client);
    assertThat(answer.external).as("%s on site %s", client[0], site).hasSize(1);
    String external = answer.external.get(0);
    assertThat(external).isIn(String.valueOf(port), site.wan + ":" + port);
    assertThat(reaches(lab, site, port)).as("%s mapping of port %d on site %s", client[0], port,
        site).isTrue();
  }

  /** Whether a datagram from the internet to the site's WAN address and port reaches its host. */
  private static boolean reaches(NatLab lab, Site site, int port) throws IOException {
    Process listener = lab.exec(site.host(), NatLab.probe("listen", String.valueOf(port), "1000"));
    var reader = new BufferedReader(
        new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8));
    assertThat(reader.readLine()).startsWith("listening");
    lab.run(Node.INET, NatLab.probe("send", NatLab.SECOND_SERVER + ":0", site.wan + ":" + port),
        PROBE_TIMEOUT);
    String verdict = String.valueOf(reader.readLine());
    return verdict.startsWith("received " + NatLab.SECOND_SERVER + ":");
  }

  private static Set<String> namespaceNames() throws IOException {
    Set<String> names = new HashSet<>();
    for (String line : host("ip", "netns", "list").split("\n")) {
      if (!line.isBlank()) {
        names.add(line.split(" ")[0]);
      }
    }
    return names;
  }

  /** Interface names in the namespace the tests run in. */
  private static Set<String> rootLinks() throws IOException {
    Set<String> names = new HashSet<>();
    for (String line : host("ip", "-o", "link", "show").split("\n")) {
      String[] fields = line.split(": ");
      if (fields.length > 1) {
        names.add(fields[1]);
      }
    }
    return names;
  }

  private static List<ProcessHandle> processesIn(List<String> namespaces) throws IOException {
    List<ProcessHandle> found = new ArrayList<>();
    for (String ns : namespaces) {
      for (String pid : host("ip", "netns", "pids", ns).split("\n")) {
        if (!pid.isBlank()) {
          ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(found::add);
        }
      }
    }
    return found;
  }

  /** Alive and not a zombie: an exited daemon waits for a slow init to reap it. */
  private static boolean running(ProcessHandle p) {
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(p.pid()), "stat"));
      return p.isAlive() && stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException gone) {
      return false;
    }
  }

  private static String host(String... command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), out).isZero();
    return out;
  }
}
