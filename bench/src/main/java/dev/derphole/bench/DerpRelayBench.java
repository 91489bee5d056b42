package dev.derphole.bench;

import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.frame.DerpProtocol;
import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpMapException;
import dev.derphole.derp.map.DerpMapSource;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.map.DerpRegion;
import dev.derphole.derp.server.DerpServerConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.OpenSsl;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Packets per second and Gbit/s through a DERP relay: N sender connections each stream packets to
 * their own receiver connection as fast as backpressure allows, and what the receivers get is
 * counted.
 *
 * <pre>
 *   sender 1 ──SendPacket──▶ ┌───────┐ ──RecvPacket──▶ receiver 1
 *      ...                   │ relay │                    ...
 *   sender N ──SendPacket──▶ └───────┘ ──RecvPacket──▶ receiver N
 * </pre>
 *
 * Two ways to run: {@code --duration S} measures the receive rate over S seconds after
 * {@code --warmup} seconds; {@code --bytes B} sends B payload bytes per pair and measures from the
 * first packet to the last one received. Either way it prints one {@link ResultLine}: received
 * payload (packets/s, Gbit/s) and loss (the relay drops a packet when a receiver's queue is full).
 *
 * <p>Senders are open-loop by default: they write whenever their connection is writable, so the
 * relay sees more than it can deliver and drops the rest. {@code --window W} keeps at most W
 * packets per pair in flight instead, as a transport with flow control would (see {@link RelayPair}).
 * {@code --window queue} sizes that window to what the relay queues for one receiver by default
 * (1024 packets, or 4 MiB of packets when that is fewer): the most a transport can keep in flight
 * before the relay's queue, not the window, drops its packets. A window of a fixed packet count
 * would give 1200-byte packets a fiftieth of the bytes in flight that 64 KiB packets get.
 * With {@code --relay-pid} the line also says how much CPU the relay, these clients and everything
 * else used during the measurement ({@link CpuSampler}).
 *
 * <p>Every client runs on this JVM's {@code --threads} event loops, which share the machine with
 * the relay: the figures are a floor for the relay, not its ceiling.
 */
public final class DerpRelayBench {
  private static final Set<String> FLAGS =
      Set.of("map", "pairs", "size", "duration", "bytes", "warmup", "threads", "window", "relay-pid", "label");
  /** How long the receivers may stay silent after the senders stop before the run ends. */
  private static final Duration QUIET = Duration.ofMillis(500);
  /** Upper bound on waiting for in-flight packets once the senders are done. */
  private static final Duration DRAIN_LIMIT = Duration.ofSeconds(5);

  private DerpRelayBench() {}

  /** Packets of {@code size} bytes that fit the relay's default queue for one receiver. */
  static int queueWindow(int size) {
    return (int) Math.min(DerpServerConfig.DEFAULT_QUEUE_PACKETS, DerpServerConfig.DEFAULT_QUEUE_BYTES / size);
  }

  public static void main(String[] args) throws InterruptedException {
    System.exit(run(args));
  }

  /** Runs once and prints the result line; returns the exit status (0 ok, 1 run failed, 2 usage). */
  static int run(String[] args) throws InterruptedException {
    BenchArgs a;
    DerpEndpoint endpoint;
    int pairs;
    int size;
    boolean byBytes;
    long budget;
    double warmup;
    double duration;
    int threads;
    int window;
    List<Long> relayPids;
    try {
      // Every value is read here, so a bad one gets the one-line message and the usage.
      a = BenchArgs.parse(args, FLAGS);
      pairs = a.positiveInt("pairs", 1);
      size = a.positiveInt("size", 1200);
      if (size < RelayPair.SEQUENCE_LENGTH || size > DerpProtocol.MAX_PACKET_SIZE) {
        throw new IllegalArgumentException(
            "--size must be " + RelayPair.SEQUENCE_LENGTH + ".." + DerpProtocol.MAX_PACKET_SIZE + ", got " + size);
      }
      byBytes = a.has("bytes");
      budget = byBytes ? ceilDiv(a.positiveLong("bytes", 0), size) : Long.MAX_VALUE;
      warmup = byBytes ? 0 : a.seconds("warmup", 1);
      duration = a.seconds("duration", 5);
      threads = a.positiveInt("threads", Runtime.getRuntime().availableProcessors());
      window = "queue".equals(a.string("window", "")) ? queueWindow(size) : a.nonNegativeInt("window", 0);
      relayPids = a.has("relay-pid") ? List.of(a.positiveLong("relay-pid", 0)) : List.of();
      endpoint = DerpEndpoint.of(firstNode(DerpMapSource.load(a.required("map"), Duration.ofSeconds(10))));
    } catch (IllegalArgumentException | DerpMapException e) {
      System.err.println("derp-relay-bench: " + e.getMessage());
      System.err.println("usage: DerpRelayBench --map FILE|URL [--pairs N] [--size BYTES] "
          + "[--duration S [--warmup S] | --bytes PER_PAIR] [--window PKTS|queue] [--threads N] [--relay-pid PID] [--label TEXT]");
      return 2;
    }

    byte[] bytes = new byte[size - RelayPair.SEQUENCE_LENGTH];
    ThreadLocalRandom.current().nextBytes(bytes);
    ByteBuf filler = Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes).asReadOnly());

    // The event loops derphole's own DERP client runs on (epoll where it loads).
    EventLoopGroup group = EventLoops.newGroup(threads, "bench-client");
    List<EventLoop> loops = new ArrayList<>();
    group.forEach(e -> loops.add((EventLoop) e));
    List<RelayPair> all = new ArrayList<>();
    try {
      for (int i = 0; i < pairs; i++) {
        RelayPair p = new RelayPair(filler, budget, window);
        all.add(p);
        // Sender i and receiver i on different loops, and the senders spread over all loops.
        p.connect(endpoint, loops.get((i + 1) % loops.size()), loops.get(i % loops.size()));
      }
      Measurement m = byBytes ? runForBytes(all, relayPids) : runForDuration(all, warmup, duration, relayPids);
      drain(all);
      long sent = all.stream().mapToLong(RelayPair::sent).sum();
      long received = all.stream().mapToLong(RelayPair::received).sum();
      long anomalies = all.stream().mapToLong(RelayPair::anomalies).sum();
      String closed = all.stream().map(RelayPair::closedReason).filter(r -> r != null).findFirst().orElse(null);
      if (closed != null) {
        System.err.println("derp-relay-bench: a connection closed during the run: " + closed);
      }
      if (anomalies > 0) {
        System.err.println("derp-relay-bench: " + anomalies + " packets came from a stranger, short or out of order");
      }
      ResultLine line = new ResultLine()
          .put("bench", "derp-relay")
          .put("label", a.string("label", endpoint.tls() ? "tls" : "plain"))
          .put("pairs", pairs)
          .put("size", size)
          .put("window", window)
          .put("client_threads", threads)
          .put("client_tls", !endpoint.tls() ? "none" : OpenSsl.isAvailable() ? "openssl" : "jdk")
          .put("seconds", m.seconds, 3)
          .put("received_pkts", m.packets)
          .put("received_bytes", m.bytes)
          .put("pkts_per_s", m.seconds > 0 ? m.packets / m.seconds : 0, 0)
          .put("gbit_per_s", ResultLine.gbitPerSecond(m.bytes, m.seconds), 3)
          .put("total_sent", sent)
          .put("total_received", received)
          .put("loss_pct", sent == 0 ? 0 : 100.0 * (sent - received) / sent, 2)
          .put("ok", closed == null && anomalies == 0 ? "yes" : "no");
      if (!relayPids.isEmpty()) {
        CpuSampler.addTo(line, m.cpu);
      }
      System.out.println(line);
      return closed == null && anomalies == 0 ? 0 : 1;
    } catch (IOException e) {
      System.err.println("derp-relay-bench: cannot connect: " + e.getMessage());
      return 1;
    } finally {
      all.forEach(RelayPair::close);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private record Measurement(double seconds, long packets, long bytes, CpuSampler.Usage cpu) {}

  private static Measurement runForDuration(List<RelayPair> all, double warmup, double duration, List<Long> relayPids)
      throws InterruptedException {
    all.forEach(RelayPair::start);
    sleepSeconds(warmup);
    CpuSampler.Reading c0 = CpuSampler.read(relayPids);
    long t0 = System.nanoTime();
    long p0 = sum(all, RelayPair::received);
    long b0 = sum(all, RelayPair::receivedBytes);
    sleepSeconds(duration);
    long p1 = sum(all, RelayPair::received);
    long b1 = sum(all, RelayPair::receivedBytes);
    long t1 = System.nanoTime();
    CpuSampler.Reading c1 = CpuSampler.read(relayPids);
    all.forEach(RelayPair::stop);
    return new Measurement((t1 - t0) / 1e9, p1 - p0, b1 - b0, CpuSampler.between(c0, c1));
  }

  /** From the start to the last packet received, polled every millisecond. */
  private static Measurement runForBytes(List<RelayPair> all, List<Long> relayPids) throws InterruptedException {
    CpuSampler.Reading c0 = CpuSampler.read(relayPids);
    long t0 = System.nanoTime();
    all.forEach(RelayPair::start);
    long last = t0;
    long seen = 0;
    while (true) {
      Thread.sleep(1);
      long now = System.nanoTime();
      long got = sum(all, RelayPair::received);
      if (got != seen) {
        seen = got;
        last = now;
      }
      boolean sendersDone = all.stream().allMatch(RelayPair::doneSending);
      if (sendersDone && (got == sum(all, RelayPair::sent) || now - last > QUIET.toNanos())) {
        break;
      }
    }
    CpuSampler.Reading c1 = CpuSampler.read(relayPids);
    return new Measurement((last - t0) / 1e9, seen, sum(all, RelayPair::receivedBytes), CpuSampler.between(c0, c1));
  }

  /** Waits until the receivers have what was sent, or stay quiet: the rest is lost. */
  private static void drain(List<RelayPair> all) throws InterruptedException {
    long deadline = System.nanoTime() + DRAIN_LIMIT.toNanos();
    long seen = -1;
    long quietSince = System.nanoTime();
    while (System.nanoTime() < deadline) {
      long got = sum(all, RelayPair::received);
      if (got == sum(all, RelayPair::sent)) {
        return;
      }
      if (got != seen) {
        seen = got;
        quietSince = System.nanoTime();
      } else if (System.nanoTime() - quietSince > QUIET.toNanos()) {
        return;
      }
      Thread.sleep(5);
    }
  }

  private static DerpNode firstNode(DerpMap map) {
    for (DerpRegion region : map.regionsById()) {
      for (DerpNode node : region.derpNodes()) {
        return node;
      }
    }
    throw new IllegalArgumentException("the DERP map has no DERP node");
  }

  private static long sum(List<RelayPair> all, java.util.function.ToLongFunction<RelayPair> counter) {
    return all.stream().mapToLong(counter).sum();
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  private static void sleepSeconds(double s) throws InterruptedException {
    Thread.sleep(Math.round(s * 1000));
  }
}
