package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code send}/{@code receive} with {@code --parallel} (issue #34): with three lanes agreed on the
 * loopback direct path, a file and a directory arrive intact (SHA-256 checked end to end by the
 * receiver, and here again), sender first and receiver first, and the lanes beyond lane 0 carried
 * part of the body.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class SendReceiveLanesIT extends SendReceiveDirsIT {
  static final Duration TRANSFER = Duration.ofSeconds(180);
  static final Pattern LANE_RATE = Pattern.compile("(?m)^lane-rate (\\d+) (\\d+) bytes [0-9.]+ Mbit/s");

  /** The lanes (by index) the {@code lane-rate} lines of {@code stderr} say carried bytes. */
  private static List<Integer> lanesThatCarried(String stderr) {
    Matcher m = LANE_RATE.matcher(stderr);
    List<Integer> lanes = new java.util.ArrayList<>();
    while (m.find()) {
      if (Long.parseLong(m.group(2)) > 0) {
        lanes.add(Integer.parseInt(m.group(1)));
      }
    }
    return lanes;
  }

  private static void assertStriped(Derphole send, Derphole receive) {
    assertThat(send.stderrLines()).as(send.stderr()).anyMatch(l -> l.matches("lanes 3 \\(fixed\\) \\+\\d+\\.\\d{3}s"));
    assertThat(lanesThatCarried(send.stderr())).as(send.stderr()).contains(0).anyMatch(i -> i > 0);
    assertThat(lanesThatCarried(receive.stderr())).as(receive.stderr()).contains(0).anyMatch(i -> i > 0);
  }

  @Test
  void aFileSentOverThreeLanesArrivesIntact() throws Exception {
    Path file = Bytes.randomFile(from.resolve("big.bin"), 48L << 20, 71);
    Derphole send = Offers.send(processes, from, relay, Path.of("/dev/null"), "--verbose", "--parallel", "3", "big.bin");
    Derphole receive = Offers.receive(processes, to, relay, Offers.token(send), "--verbose", "-P", "3");
    receive.assertExit(0, TRANSFER);
    send.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(to.resolve("big.bin"))).isEqualTo(Bytes.sha256(file));
    assertThat(send.stdout).isEmptyFile();
    assertThat(receive.stdout).isEmptyFile();
    assertStriped(send, receive);
    assertThat(receive.stderrLines()).anyMatch(l -> l.startsWith("stream-complete " + (48L << 20) + " bytes"));
    assertThat(send.stderrLines()).anyMatch(l -> l.startsWith("stream-complete " + (48L << 20) + " bytes"));
  }

  @Test
  void aDirectorySentOverThreeLanesToTheReceiverThatWentFirstArrivesIntact() throws Exception {
    Path tree = Files.createDirectories(from.resolve("tree/a/b"));
    Bytes.randomFile(tree.resolve("one.bin"), 20L << 20, 72);
    Bytes.randomFile(from.resolve("tree/two.bin"), 20L << 20, 73);
    Files.createDirectories(from.resolve("tree/empty"));
    Files.writeString(from.resolve("tree/a/small.txt"), "small\n");
    Derphole receive = Derphole.start(processes, to, "receive", relay.mapFile(), Path.of("/dev/null"),
        "receive", "--verbose", "--parallel", "3");
    String token = receive.awaitStderr(ReceiverFirstIT.SEND_LINE).group(1);
    Derphole send = Derphole.start(processes, from, "send", relay.mapFile(), Path.of("/dev/null"),
        "send", "--verbose", "--parallel", "3", "--to", token, "tree");
    send.assertExit(0, TRANSFER);
    receive.assertExit(0, TRANSFER);
    assertThat(Offers.tree(to.resolve("tree"))).isEqualTo(Offers.tree(from.resolve("tree")));
    assertStriped(send, receive);
  }

  @Test
  void aParallelThatIsNotOneToSixteenOrAutoIsAUsageErrorOnSendAndReceive() throws Exception {
    for (String bad : List.of("0", "17", "two")) {
      for (List<String> args : List.of(List.of("send", "--parallel", bad, "hi"), List.of("receive", "--parallel", bad))) {
        Derphole p = Derphole.start(processes, dir, "bad-" + bad + "-" + args.get(0), relay.mapFile(),
            Path.of("/dev/null"), args.toArray(String[]::new));
        p.assertExit(2, TRANSFER);
        assertThat(p.stderrLines()).containsExactly("derphole: --parallel takes 1-16 or auto, got '" + bad + "'");
        assertThat(p.stdout).isEmptyFile();
      }
    }
  }
}
