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

    Derphole listen = Derphole.start(processes, dir, "listen", map, Path.of("/dev/null"), "listen");
    String token = listen.awaitToken();
    Derphole pipe = Derphole.start(processes, dir, "pipe", map, input, "pipe", token);
    pipe.assertExit(0, TRANSFER);
    listen.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(listen.stdout)).as("the transfer completed intact").isEqualTo(Bytes.sha256(input));

    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    List<byte[]> captured;
    synchronized (packets) {
      captured = new ArrayList<>(packets);
    }
    for (byte[] p : captured) {
      seen.write(p);
    }
    byte[] all = seen.toByteArray();
    assertThat((long) all.length).as("the tap saw all the traffic (%d packets)", captured.size())
        .isGreaterThan(1L << 20);

    byte[] half = java.util.Arrays.copyOf(MARKER, 16);
    // Searching the concatenation covers every packet and every boundary between consecutive ones.
    assertThat(Bytes.indexOf(all, MARKER)).as("the marker in the clear").isEqualTo(-1);
    assertThat(Bytes.indexOf(all, half)).as("the marker's first 16 bytes in the clear").isEqualTo(-1);
    assertThat(Bytes.indexOf(all, "nodekey:".getBytes(StandardCharsets.US_ASCII))).as("a node key as text").isEqualTo(-1);
    assertThat(Bytes.indexOf(all, "127.0.0.1".getBytes(StandardCharsets.US_ASCII))).as("an address as text").isEqualTo(-1);
    // The search itself works: the input holds the marker at every 32nd byte.
    assertThat(Bytes.indexOf(Files.readAllBytes(input), half)).isZero();
  }
}
