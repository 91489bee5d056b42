package dev.derphole.cli.natlab;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The NAT lab (test/natlab/lab.sh, docs/nat-lab.md) for end-to-end tests: an "internet" and two
 * sites, each a host behind a router of a chosen NAT kind, in Linux network namespaces.
 *
 * <pre>
 *   hA 10.1.0.2 ── rA (kind A) 198.51.100.10 ──┐
 *                                              ├─ br0 198.51.100.0/24 in inet: .1 relay, .2
 *   hB 10.2.0.2 ── rB (kind B) 198.51.100.20 ──┘
 * </pre>
 *
 * <p>Every lab has namespace names of its own ({@code dhl-inet-<id>}, ...), so labs of parallel
 * builds never meet. {@link #close()} stops every process in the lab's namespaces (whoever
 * started it) and deletes them, which takes the veths and the bridge along.
 *
 * <p>Tests that need the lab call {@link #assumeAvailable()}: outside CI a machine without it
 * skips them with the reason; with {@code CI=true} they fail, because {@code .ci/run} installs
 * what the lab needs.
 */
public final class NatLab implements AutoCloseable {
  /** The relay's (and first STUN server's) address on the lab's internet. */
  public static final String RELAY = "198.51.100.1";
  /** A second server address on the internet, for tests that need another remote endpoint. */
  public static final String SECOND_SERVER = "198.51.100.2";

  /** How a site reaches the internet; the label is lab.sh's name for it. */
  public enum Kind {
    /** Full cone: endpoint-independent mapping and filtering. */
    EIM_EIF("eim-eif"),
    /** Port-restricted cone: endpoint-independent mapping, address and port dependent filtering. */
    EIM_APDF("eim-apdf"),
    /** A new random port for every destination. */
    SYMMETRIC("symmetric"),
    /** No UDP gets through the router; TCP is translated as usual. */
    UDP_BLOCKED("udp-blocked"),
    /** No router: the host sits on the internet with the site's WAN address. */
    NONE("none");

    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /** The two sites and their fixed addresses. */
  public enum Site {
    A("198.51.100.10", "10.1.0.1", "10.1.0.2"),
    B("198.51.100.20", "10.2.0.1", "10.2.0.2");

    /** The router's address on the internet (the host's own when the kind is NONE). */
    public final String wan;
    /** The router's address on the site's LAN: where NAT-PMP, PCP and UPnP answer. */
    public final String routerLan;
    /** The host's LAN address behind a router. */
    public final String hostLan;

    Site(String wan, String routerLan, String hostLan) {
      this.wan = wan;
      this.routerLan = routerLan;
      this.hostLan = hostLan;
    }

    public Node host() {
      return this == A ? Node.HOST_A : Node.HOST_B;
    }

    public Node router() {
      return this == A ? Node.ROUTER_A : Node.ROUTER_B;
    }
  }

  /** The lab's namespaces. */
  public enum Node {
    INET("inet"), ROUTER_A("rA"), HOST_A("hA"), ROUTER_B("rB"), HOST_B("hB");

    final String label;

    Node(String label) {
      this.label = label;
    }
  }

  /**
   * What else {@code up} sets up: miniupnpd (UPnP IGD, NAT-PMP, PCP) on a site's router, delay on
   * both sites' uplinks (test/natlab/wire.py), random loss on them (nftables).
   */
  public record Options(Set<Site> upnp, Duration delay, String lossPercent) {
    public static final Options NONE = new Options(Set.of(), null, null);
    /** lab.sh's range for {@code --delay}, in whole milliseconds. */
    static final long MAX_DELAY_MILLIS = 9999;

    public Options {
      upnp = Set.copyOf(upnp);
    }

    public Options withUpnp(Site site) {
      EnumSet<Site> sites = EnumSet.of(site);
      sites.addAll(upnp);
      return new Options(sites, delay, lossPercent);
    }

    /**
     * Holds every frame this long, each way, on each site's uplink: a site's round trip to the
     * internet grows by twice the delay, one from site to site by four times.
     */
    public Options withDelay(Duration delay) {
      if (delay.compareTo(Duration.ofMillis(1)) < 0
          || delay.compareTo(Duration.ofMillis(MAX_DELAY_MILLIS)) > 0
          || delay.toNanos() % 1_000_000 != 0) {
        throw new IllegalArgumentException(
            "delay must be whole milliseconds from 1 to " + MAX_DELAY_MILLIS + ", got " + delay);
      }
      return new Options(upnp, delay, lossPercent);
    }

    /** Drop this percentage of IPv4 packets each way on each uplink, e.g. {@code "2.5"}. */
    public Options withLoss(String percent) {
      return new Options(upnp, delay, percent);
    }

    List<String> arguments() {
      List<String> args = new ArrayList<>();
      for (Site site : Site.values()) {
        if (upnp.contains(site)) {
          args.addAll(List.of("--upnp", site.name()));
        }
      }
      if (delay != null) {
        args.addAll(List.of("--delay", String.valueOf(delay.toMillis())));
      }
      if (lossPercent != null) {
        args.addAll(List.of("--loss", lossPercent));
      }
      return args;
    }
  }

  /** What this machine supports, as {@code lab.sh check} found it. */
  public record Support(String lab, String upnp) {
    public boolean labOk() {
      return lab.equals("ok");
    }

    public boolean upnpOk() {
      return labOk() && upnp.equals("ok");
    }
  }

  private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(60);
  private static final AtomicInteger LABS = new AtomicInteger();
  private static volatile Support support;

  private final String id;
  private final Kind kindA;
  private final Kind kindB;
  private final Thread downAtExit;
  private boolean closed;
  /** Whether {@link #close} gave back the turn {@link #up} took ({@link LabTurn}). */
  private boolean turnGiven;

  private NatLab(String id, Kind kindA, Kind kindB) {
    this.id = id;
    this.kindA = kindA;
    this.kindB = kindB;
    this.downAtExit = new Thread(this::downQuietly, "natlab-down-" + id);
  }

  /** Builds a lab with site A behind {@code a} and site B behind {@code b}. */
  public static NatLab up(Kind a, Kind b) throws IOException {
    return up(a, b, Options.NONE);
  }

  public static NatLab up(Kind a, Kind b, Options options) throws IOException {
    return up(a, b, options, Set.of());
  }

  /** The relay's IPv6 address on the lab's internet, for sites with IPv6. */
  public static final String RELAY6 = "2001:db8:ff::1";

  /**
   * As {@link #up(Kind, Kind, Options)}, and the sites in {@code ipv6} also get IPv6: a global
   * /64 routed by the router behind a stateful firewall, no NAT (lab.sh {@code --ipv6}).
   */
  public static NatLab up(Kind a, Kind b, Options options, Set<Site> ipv6) throws IOException {
    String id = "j" + Long.toString(ProcessHandle.current().pid(), 36)
        + "n" + Integer.toString(LABS.incrementAndGet(), 36);
    LabTurn.take(); // one lab at a time across the build's test JVMs
    NatLab lab = new NatLab(id, a, b);
    List<String> args = new ArrayList<>(List.of("up", a.label, b.label));
    args.addAll(options.arguments());
    for (Site site : Site.values()) {
      if (ipv6.contains(site)) {
        args.addAll(List.of("--ipv6", site.name()));
      }
    }
    // Registered first: a JVM stopped half-way through up still takes the lab down.
    Runtime.getRuntime().addShutdownHook(lab.downAtExit);
    try {
      lab.script(args);
    } catch (IOException | RuntimeException e) {
      try {
        lab.close();
      } catch (RuntimeException alsoDown) {
        e.addSuppressed(alsoDown);
      }
      throw e;
    }
    return lab;
  }

  /** The lab directory: test/natlab under the project root. */
  public static Path directory() {
    Path root = Path.of(System.getProperty("derphole.root", "")).toAbsolutePath();
    for (Path p = root; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("test/natlab/lab.sh"))) {
        return p.resolve("test/natlab");
      }
    }
    throw new IllegalStateException("no test/natlab/lab.sh above " + root);
  }

  /**
   * A test/natlab/probe.py command line (UDP/TCP echo servers, mapping and filtering probes,
   * NAT-PMP, PCP and UPnP clients; its docstring lists them), for {@link #exec} or {@link #run}.
   */
  public static List<String> probe(String... args) {
    // The system's python3 first: it starts in 30 ms where a version manager's shim takes 300.
    Path system = Path.of("/usr/bin/python3");
    String python = Files.isExecutable(system) ? system.toString() : "python3";
    List<String> command = new ArrayList<>(List.of(python, directory() + "/probe.py"));
    command.addAll(List.of(args));
    return command;
  }

  public static Support support() {
    Support s = support;
    if (s == null) {
      s = check();
      support = s;
    }
    return s;
  }

  /** Running as root, with ip, nft, ss and python3, allowed to create namespaces. */
  public static boolean available() {
    return support().labOk();
  }

  /** Skips the calling test where the lab cannot run; fails it instead under CI=true. */
  public static void assumeAvailable() {
    require(available(), "the NAT lab cannot run here: " + support().lab());
  }

  /** As {@link #assumeAvailable()}, and miniupnpd is installed. */
  public static void assumeUpnp() {
    assumeAvailable();
    require(support().upnpOk(), "the NAT lab has no UPnP here: " + support().upnp());
  }

  private static void require(boolean ok, String why) {
    if (ok) {
      return;
    }
    if ("true".equals(System.getenv("CI"))) {
      Assertions.fail(why + " (CI=true, and .ci/run installs what the lab needs)");
    }
    Assumptions.abort(why + " (run as root with iproute2, nftables, python3 and"
        + " miniupnpd-nftables; docs/nat-lab.md)");
  }

  private static Support check() {
    String lab = "missing lab.sh";
    String upnp = "unknown";
    try {
      // Exit 1 only says the lab cannot run; the lines say why.
      // Its own probe namespace (dhl-check-ID): checks of parallel test JVMs never meet.
      String checkId = "c" + Long.toString(ProcessHandle.current().pid(), 36);
      for (String line : runScript(checkId, List.of("check"), false).split("\n")) {
        String[] kv = line.split(": ", 2);
        if (kv.length == 2) {
          switch (kv[0]) {
            case "lab" -> lab = kv[1];
            case "upnp" -> upnp = kv[1];
            default -> { }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      lab = "lab.sh check failed: " + e.getMessage();
    }
    return new Support(lab, upnp);
  }

  public Kind kind(Site site) {
    return site == Site.A ? kindA : kindB;
  }

  /** The host's own address: its LAN address, or the WAN address when its site has no router. */
  public String hostAddress(Site site) {
    return kind(site) == Kind.NONE ? site.wan : site.hostLan;
  }

  /** The real namespace name of a node of this lab, e.g. {@code dhl-hA-j2k1n1}. */
  public String namespace(Node node) {
    return "dhl-" + node.label + "-" + id;
  }

  /** Where lab.sh keeps this lab's logs, configuration and pid files (its STATE). */
  Path stateDirectory() {
    return Path.of("/run/dhl-natlab-" + id);
  }

  /**
   * Starts {@code command} inside {@code node}; {@link #close()} stops it at the latest. Its
   * output is piped: read it, or a chatty process blocks.
   */
  public Process exec(Node node, List<String> command) throws IOException {
    return new ProcessBuilder(inNamespace(node, command)).start();
  }

  /** Runs {@code command} inside {@code node} to completion; its stdout, or why it failed. */
  public String run(Node node, List<String> command, Duration timeout) throws IOException {
    return run(inNamespace(node, command), null, timeout, true);
  }

  /** Drops UDP between the two sites' WAN addresses: relay (TCP) and STUN stay reachable. */
  /** Drops UDP between the two sites over IPv6 only (lab.sh cut6). */
  public void cutDirect6() throws IOException {
    script(List.of("cut6"));
  }

  /** Black-holes IPv4 to the relay's address, DERP and STUN (lab.sh relay4 drop), or restores it. */
  public void relayIpv4(boolean reachable) throws IOException {
    script(List.of("relay4", reachable ? "restore" : "drop"));
  }

  public void cutDirect() throws IOException {
    script(List.of("cut"));
  }

  public void restoreDirect() throws IOException {
    script(List.of("restore"));
  }

  /** Takes a site's uplink down: nothing gets to or from its WAN address, relay included. */
  public void isolate(Site site) throws IOException {
    script(List.of("isolate", site.name()));
  }

  /** Brings the isolated site's uplink back. */
  public void rejoin() throws IOException {
    script(List.of("rejoin"));
  }

  /**
   * Polices each UDP flow between the two sites' WAN addresses (addresses and ports) to
   * {@code mbit} Mbit/s, the excess dropped (lab.sh police; the kernel lets about 1.25 × through).
   */
  public void police(int mbit) throws IOException {
    script(List.of("police", String.valueOf(mbit)));
  }

  /** Stops the per-flow policer; harmless when none is on. */
  public void unpolice() throws IOException {
    script(List.of("unpolice"));
  }

  /**
   * One UDP flow dies: everything from and to {@code port} of the site's host is dropped on its way
   * through the site (lab.sh cutport); its other flows live on. Adds to earlier cuts.
   */
  public void cutPort(Site site, int port) throws IOException {
    script(List.of("cutport", site.name(), String.valueOf(port)));
  }

  /** Lifts every {@link #cutPort} cut of both sites; harmless when there is none. */
  public void uncutPorts() throws IOException {
    script(List.of("uncutport"));
  }

  /**
   * Kills every process in the lab's namespaces, whoever started it, but the lab's own daemons
   * (the delay wire, miniupnpd, its STUN server), and waits for them to end; the lab stays up, so
   * the next case of a class that shares one lab starts clean, even when the last one failed
   * before it could close what it started.
   */
  public void stopProcesses() throws IOException {
    Set<String> daemons = new java.util.HashSet<>();
    try (var pidFiles = Files.newDirectoryStream(stateDirectory(), "*.pid")) {
      for (Path f : pidFiles) {
        daemons.add(Files.readString(f).strip());
      }
    }
    List<ProcessHandle> running = new ArrayList<>();
    for (Node node : Node.values()) {
      for (String pid : run(List.of("ip", "netns", "pids", namespace(node)), null, SCRIPT_TIMEOUT, false)
          .split("\\s+")) {
        if (!pid.isEmpty() && !daemons.contains(pid)) {
          ProcessHandle.of(Long.parseLong(pid)).ifPresent(running::add);
        }
      }
    }
    running.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle p : running) {
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        throw new IOException("process " + p.pid() + " in NAT lab " + id + " did not end", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted stopping NAT lab " + id + "'s processes", e);
      }
    }
  }

  /** Removes everything the lab made and stops every process in it; safe to call twice. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    try {
      script(List.of("down"));
      closed = true;
    } catch (IOException e) {
      throw new UncheckedIOException("NAT lab " + id + " did not come down", e);
    } finally {
      if (!turnGiven) {
        turnGiven = true;
        LabTurn.give();
      }
      try {
        Runtime.getRuntime().removeShutdownHook(downAtExit);
      } catch (IllegalStateException | IllegalArgumentException shuttingDownOrNeverAdded) {
        // the hook itself is running, or up() failed before adding it: nothing to remove
      }
    }
  }

  private void downQuietly() {
    try {
      script(List.of("down"));
    } catch (IOException e) {
      System.err.println("NAT lab " + id + " did not come down: " + e.getMessage());
    }
  }

  private List<String> inNamespace(Node node, List<String> command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(node)));
    full.addAll(command);
    return full;
  }

  private void script(List<String> args) throws IOException {
    runScript(id, args, true);
  }

  private static String runScript(String id, List<String> args, boolean mustSucceed)
      throws IOException {
    List<String> command = new ArrayList<>(List.of("bash", directory() + "/lab.sh"));
    command.addAll(args);
    return run(command, id, SCRIPT_TIMEOUT, mustSucceed);
  }

  /** Output goes to files, not pipes: nothing to drain while waiting, nothing to deadlock on. */
  /** Stdout of {@code command}. */
  private static String run(List<String> command, String labId, Duration timeout,
      boolean mustSucceed) throws IOException {
    Path out = Files.createTempFile("natlab", ".out");
    Path err = Files.createTempFile("natlab", ".err");
    try {
      ProcessBuilder pb = new ProcessBuilder(command)
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      if (labId != null) {
        pb.environment().put("NATLAB_ID", labId);
      }
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + ": still running after " + timeout);
      }
      if (mustSucceed && p.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + ": exit " + p.exitValue() + ": "
            + Files.readString(err).strip());
      }
      return Files.readString(out);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", command), e);
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
