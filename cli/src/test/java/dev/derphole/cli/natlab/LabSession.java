package dev.derphole.cli.natlab;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One listen/pipe session across the NAT lab: our relay (with STUN) on the lab's internet,
 * {@code derphole listen} on host A, {@code derphole pipe} on host B fed by the test, so the
 * session stays open while the test watches which path it takes.
 */
final class LabSession implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(30);
  private static final Pattern TOKEN = Pattern.compile("(?m)^derphole pipe (\\S+)$");

  final NatLab lab;
  final Path dir;
  final Process relay;
  final Process listen;
  final Process pipe;
  final MessageDigest sent;
  final Random random = new Random(11);
  private final OutputStream pipeIn;

  LabSession(NatLab lab, Path dir, String... extraFlags) throws Exception {
    this(lab, dir, java.util.Map.of(), null, extraFlags);
  }

  /** With {@code listenEnv} in listen's environment (e.g. HTTPS_PROXY). */
  LabSession(NatLab lab, Path dir, java.util.Map<String, String> listenEnv, String... extraFlags) throws Exception {
    this(lab, dir, listenEnv, null, extraFlags);
  }

  /**
   * With {@code editMap} non-null: the relay listens on every address of both families, and both
   * sides use the DERP map that {@code editMap} makes of the relay's own (e.g. its node's IPv4 and
   * IPv6 fields set or cleared).
   */
  LabSession(NatLab lab, Path dir, java.util.function.UnaryOperator<com.fasterxml.jackson.databind.JsonNode> editMap,
             String... extraFlags) throws Exception {
    this(lab, dir, java.util.Map.of(), editMap, extraFlags);
  }

  private LabSession(NatLab lab, Path dir, java.util.Map<String, String> listenEnv,
             java.util.function.UnaryOperator<com.fasterxml.jackson.databind.JsonNode> editMap,
             String... extraFlags) throws Exception {
    this.lab = lab;
    this.dir = dir;
    this.sent = MessageDigest.getInstance("SHA-256");
    Path root = Path.of(System.getProperty("derphole.root", ".")).toAbsolutePath();
    Path relayMap = dir.resolve("map.json");
    String listenAt = editMap == null ? NatLab.RELAY + ":8443" : ":8443 --hostname relay.lab";
    relay = lab.exec(NatLab.Node.INET, List.of("sh", "-c", "exec " + root.resolve("bin/derper")
        + " --listen " + listenAt + " --stun-port 3478 --derp-map-out " + relayMap
        + " > " + dir.resolve("relay.out") + " 2> " + dir.resolve("relay.err")));
    await("the relay's map", () -> Files.exists(relayMap));
    Path map = relayMap;
    String pipeMap = "";
    if (editMap != null) {
      com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
      await("the relay's whole map", () -> json.readTree(relayMap.toFile()).has("Regions"));
      map = dir.resolve("map-edited.json");
      Files.writeString(map, json.writeValueAsString(editMap.apply(json.readTree(relayMap.toFile()))));
      pipeMap = "DERPHOLE_DERP_MAP=" + map + " "; // so that pipe knows every address of the token's relay
    }
    String flags = String.join(" ", extraFlags);
    StringBuilder env = new StringBuilder();
    listenEnv.forEach((k, v) -> env.append(k).append("='").append(v).append("' "));
    listen = lab.exec(NatLab.Node.HOST_A, List.of("sh", "-c", "cd " + dir + " && " + env + "DERPHOLE_DERP_MAP=" + map
        + " exec " + root.resolve("bin/derphole") + " --verbose listen " + flags
        + " > listen.out 2> listen.err < /dev/null"));
    await("listen's token", () -> TOKEN.matcher(read("listen.err")).find());
    Matcher m = TOKEN.matcher(read("listen.err"));
    assertThat(m.find()).isTrue();
    pipe = lab.exec(NatLab.Node.HOST_B, List.of("sh", "-c", "cd " + dir + " && " + pipeMap + "exec " + root.resolve("bin/derphole")
        + " --verbose pipe " + flags + " " + m.group(1) + " > pipe.out 2> pipe.err"));
    pipeIn = pipe.getOutputStream();
  }

  /** Sends {@code bytes} of random data into pipe's stdin. */
  void send(long bytes) throws IOException {
    byte[] chunk = new byte[64 << 10];
    for (long n = 0; n < bytes; n += chunk.length) {
      random.nextBytes(chunk);
      sent.update(chunk);
      pipeIn.write(chunk);
    }
    pipeIn.flush();
  }

  /** Ends the input and checks both sides finish with the same bytes. */
  void finish() throws Exception {
    pipeIn.close();
    assertThat(pipe.waitFor(WAIT.toSeconds() * 2, TimeUnit.SECONDS)).as("pipe finished; %s", bothLogs()).isTrue();
    assertThat(listen.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("listen finished; %s", bothLogs()).isTrue();
    assertThat(pipe.exitValue()).as("pipe's exit; %s", bothLogs()).isZero();
    assertThat(listen.exitValue()).as("listen's exit; %s", bothLogs()).isZero();
    MessageDigest got = MessageDigest.getInstance("SHA-256");
    got.update(Files.readAllBytes(dir.resolve("listen.out")));
    assertThat(HexFormat.of().formatHex(got.digest())).as("SHA-256 of what arrived")
        .isEqualTo(HexFormat.of().formatHex(sent.digest()));
  }

  /** A side's failure is often the other side's doing: show both. */
  private String bothLogs() throws IOException {
    return String.format("pipe's stderr:%n%s%nlisten's stderr:%n%s", read("pipe.err"), read("listen.err"));
  }

  boolean direct() throws IOException {
    return read("listen.err").lines().anyMatch(l -> l.startsWith("connected-direct "));
  }

  /** Waits for a line starting with {@code event} in listen's stderr (bounded). */
  void awaitListenEvent(String event, int count) throws Exception {
    await(count + " × " + event + " in listen's stderr", () ->
        read("listen.err").lines().filter(l -> l.startsWith(event + " ") || l.equals(event)).count() >= count);
  }

  /** The round trip the listen side measured when it went direct: "connected-direct ADDR rtt=12.3ms ...". */
  double directRttMillis() throws IOException {
    Matcher m = Pattern.compile("(?m)^connected-direct \\S+ rtt=(\\d+\\.\\d+)ms").matcher(read("listen.err"));
    if (!m.find()) {
      throw new AssertionError("no connected-direct with an rtt in listen's stderr:\n" + read("listen.err"));
    }
    return Double.parseDouble(m.group(1));
  }

  /** Seconds from "claimed" to the first "connected-direct" on the listen side, from --verbose's times. */
  double promotionSeconds() throws IOException {
    return at("connected-direct") - at("claimed");
  }

  private double at(String event) throws IOException {
    for (String l : read("listen.err").lines().toList()) {
      if (l.startsWith(event + " ") || l.startsWith(event + " +")) {
        Matcher m = Pattern.compile("\\+(\\d+\\.\\d+)s$").matcher(l);
        if (m.find()) {
          return Double.parseDouble(m.group(1));
        }
      }
    }
    throw new AssertionError("no " + event + " in listen's stderr:\n" + read("listen.err"));
  }

  String read(String file) throws IOException {
    Path p = dir.resolve(file);
    return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
  }

  static void await(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.call()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  @Override
  public void close() throws Exception {
    for (Process p : List.of(pipe, listen, relay)) {
      if (p != null && p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
