package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import io.netty.buffer.ByteBufUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the relay operator sees: the relay runs in the test JVM (plain HTTP, so nothing but our own
 * encryption stands between the data and the operator) with a tap on every packet it forwards
 * between {@code derphole listen} and {@code derphole pipe}.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class StreamSecrecyIT {
  static final Duration TRANSFER = StreamPipeIT.TRANSFER;
  static final byte[] MARKER = "derphole-secrecy-marker-0123456!".getBytes(StandardCharsets.US_ASCII);

  private final Processes processes = new Processes();
  private final List<byte[]> packets = new ArrayList<>();
  private DerpServer server;
  @TempDir Path dir;

  @AfterEach
  void stop() throws Exception {
    processes.close();
    if (server != null) {
      server.close();
    }
    processes.assertNoneLeft(Set.of());
  }

  @Test
  void relayForwardsNeitherTheDataNorKeysNorAddressesInTheClear() throws Exception {
    assertThat(MARKER).hasSize(32);
    server = DerpServer.start(DerpServerConfig.builder()
        .listen(new InetSocketAddress("127.0.0.1", 0))
        .tap((from, to, packet) -> {
          byte[] copy = ByteBufUtil.getBytes(packet);
          synchronized (packets) {
            packets.add(copy);
          }
        })
        .build());
    DerpNode node = new DerpNode("900a", 900, "127.0.0.1", "", "127.0.0.1", "", DerpNode.NO_STUN, false,
        server.localAddress().getPort(), false, false, true);
    Path map = Files.writeString(dir.resolve("plain-map.json"), DerpMap.singleRegion(900, "tap", node).toJson());
    assertThat(Files.readString(map)).contains("\"PlainHTTP\":true");
    Path input = Bytes.repeatedFile(dir.resolve("marker.in"), MARKER, 1L << 20);

    // 1. --force-relay: every data byte crosses the relay, so the tap sees the whole stream.
    byte[] relayed = transfer(map, input, "--force-relay");
    assertThat((long) relayed.length).as("the tap saw all the traffic").isGreaterThan(1L << 20);
    byte[] half = java.util.Arrays.copyOf(MARKER, 16);
    // Searching the concatenation covers every packet and every boundary between consecutive ones.
    assertThat(Bytes.indexOf(relayed, MARKER)).as("the marker in the clear").isEqualTo(-1);
    assertThat(Bytes.indexOf(relayed, half)).as("the marker's first 16 bytes in the clear").isEqualTo(-1);
    assertThat(Bytes.indexOf(relayed, "nodekey:".getBytes(StandardCharsets.US_ASCII))).as("a node key as text").isEqualTo(-1);

    // 2. Default: the two sides trade their addresses (candidates) through the relay, sealed.
    byte[] control = transfer(map, input);
    for (String address : localAddresses()) {
      assertThat(Bytes.indexOf(control, address.getBytes(StandardCharsets.US_ASCII)))
          .as("address %s in the clear", address).isEqualTo(-1);
    }
    assertThat(Bytes.indexOf(control, MARKER)).as("the marker in the clear").isEqualTo(-1);
    // The search itself works: the input holds the marker at every 32nd byte.
    assertThat(Bytes.indexOf(Files.readAllBytes(input), half)).isZero();
  }

  /** Runs one listen/pipe transfer through the tapped relay and returns every byte it forwarded. */
  private byte[] transfer(Path map, Path input, String... flags) throws Exception {
    synchronized (packets) {
      packets.clear();
    }
    List<String> listenArgs = new ArrayList<>(List.of("listen"));
    listenArgs.addAll(List.of(flags));
    Derphole listen = Derphole.start(processes, dir, "listen", map, Path.of("/dev/null"), listenArgs.toArray(String[]::new));
    String token = listen.awaitToken();
    List<String> pipeArgs = new ArrayList<>(List.of("pipe"));
    pipeArgs.addAll(List.of(flags));
    pipeArgs.add(token);
    Derphole pipe = Derphole.start(processes, dir, "pipe", map, input, pipeArgs.toArray(String[]::new));
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).as("the transfer completed intact").isEqualTo(Bytes.sha256(input));
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    synchronized (packets) {
      for (byte[] p : packets) {
        seen.write(p);
      }
    }
    return seen.toByteArray();
  }

  /** This machine's IPv4 addresses as text: what a candidate list would contain. */
  private static List<String> localAddresses() throws Exception {
    List<String> out = new ArrayList<>(List.of("127.0.0.1"));
    for (java.net.NetworkInterface nif : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (java.net.InetAddress a : java.util.Collections.list(nif.getInetAddresses())) {
        if (a instanceof java.net.Inet4Address) {
          out.add(a.getHostAddress());
        }
      }
    }
    return out;
  }
}
