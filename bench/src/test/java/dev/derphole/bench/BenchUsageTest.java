package dev.derphole.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A bad value on a bench's command line gets its one-line reason and the usage, exit status 2. */
class BenchUsageTest {
  interface Run {
    int run(String[] args) throws InterruptedException;
  }

  private static String[] refused(Run bench, String... args) throws InterruptedException {
    PrintStream err = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int status;
    try {
      System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      status = bench.run(args);
    } finally {
      System.setErr(err);
    }
    assertThat(status).as("exit status for %s", String.join(" ", args)).isEqualTo(2);
    return bytes.toString(StandardCharsets.UTF_8).split("\n");
  }

  @Test
  void theRelayBenchNamesABadValueBeforeItLoadsTheMap() throws InterruptedException {
    String[] lines = refused(DerpRelayBench::run, "--map", "/nonexistent", "--window", "queu");
    assertThat(lines[0]).isEqualTo("derp-relay-bench: --window must be a whole number, got queu");
    assertThat(lines[1]).startsWith("usage: DerpRelayBench ");
    assertThat(refused(DerpRelayBench::run, "--map", "/nonexistent", "--size", "4")[0])
        .isEqualTo("derp-relay-bench: --size must be 8..65536, got 4");
    assertThat(refused(DerpRelayBench::run, "--map", "/nonexistent", "--pairs", "0")[0])
        .isEqualTo("derp-relay-bench: --pairs must be 1..2147483647, got 0");
  }

  @Test
  void theSocatBaselineNamesABadValue() throws InterruptedException {
    String[] lines = refused(TcpRelayBaseline::run, "--write-size", "big");
    assertThat(lines[0]).isEqualTo("tcp-relay-baseline: --write-size must be a whole number, got big");
    assertThat(lines[1]).startsWith("usage: TcpRelayBaseline ");
    assertThat(refused(TcpRelayBaseline::run, "--duration", "soon")[0]).startsWith("tcp-relay-baseline: --duration ");
  }
}
