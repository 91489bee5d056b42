package dev.derphole.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench/quic-ladder.sh's in-process rungs still move their bytes. Nothing is timed: a rung that
 * stalls (as "bare" once did when QUIC's packets outgrew its socket reads) has no RESULT line.
 */
class QuicCeilingBenchTest {
  @TempDir Path dir;

  @Test
  void everyRungMovesAllItsBytes() throws Exception {
    long bytes = 1 << 20;
    Process p = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), QuicCeilingBench.class.getName(),
        "--rungs", "bare,path,stream,session,relay", "--bytes", Long.toString(bytes), "--runs", "1", "--warmup", "0")
        .redirectOutput(dir.resolve("out").toFile())
        .redirectError(dir.resolve("err").toFile())
        .start();
    try {
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the bench ends; stderr: %s", Files.readString(dir.resolve("err"))).isTrue();
    } finally {
      p.destroyForcibly();
    }
    assertThat(p.exitValue()).as("exit status; stderr: %s", Files.readString(dir.resolve("err"))).isZero();
    List<String> results = Files.readAllLines(dir.resolve("out")).stream().filter(l -> l.startsWith("RESULT ")).toList();
    assertThat(results).hasSize(5);
    for (String rung : List.of("bare", "path", "stream", "session", "relay")) {
      assertThat(results).as(rung).anyMatch(l -> l.startsWith("RESULT rung=" + rung + " bytes=" + bytes + " "));
    }
  }
}
