package dev.derphole.bench;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import dev.derphole.derp.map.DerpMapException;
import dev.derphole.derp.map.DerpMapSource;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Load on a region of meshed relays: N pairs, each a sender on one node and its receiver on the
 * next node of the region's map (so with 3 nodes every packet crosses the mesh; with 1 node the
 * same load is local), each sender at a fixed rate. Prints one {@link ResultLine}: packets sent,
 * received, lost. {@code --idle N} instead opens N clients that only stay connected and prints
 * how many are up. {@code --local yes} puts each receiver on its sender's node instead: the same
 * relays and the same load per relay, but nothing crosses the mesh (the baseline for what a
 * forwarded packet costs beside a local delivery on the same processes).
 *
 * <pre>
 *   sender i ──▶ node i mod R ──ForwardPacket──▶ node (i+1) mod R ──▶ receiver i
 *   --local yes: sender i ──▶ node i mod R ──▶ receiver i
 * </pre>
 */
public final class RelayMeshBench {
  private static final Set<String> FLAGS = Set.of("map", "pairs", "size", "rate", "duration", "warmup", "threads", "idle", "label", "relay-pids", "local");
  /** Sends happen in ticks of this length, rate × tick per tick. */
  private static final long TICK_MILLIS = 10;

  private RelayMeshBench() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(args));
  }

  static int run(String[] args) throws Exception {
    BenchArgs a;
    List<DerpEndpoint> nodes;
    try {
      a = BenchArgs.parse(args, FLAGS);
      nodes = DerpMapSource.load(a.required("map"), Duration.ofSeconds(10)).regionsById().get(0).derpNodes()
          .stream().map(DerpEndpoint::of).toList();
    } catch (IllegalArgumentException | DerpMapException e) {
      System.err.println("relay-mesh-bench: " + e.getMessage());
      System.err.println("usage: RelayMeshBench --map FILE [--pairs N --rate PKTS_PER_S --size B --duration S --warmup S --local yes|no | --idle N] [--threads N]");
      return 2;
    }
    int threads = a.positiveInt("threads", Runtime.getRuntime().availableProcessors());
    EventLoopGroup group = EventLoops.newGroup(threads, "bench-client");
    List<DerpClient> clients = new ArrayList<>();
    try {
      if (a.has("idle")) {
        return idle(a.positiveInt("idle", 1), nodes, group, clients);
      }
      return load(a, nodes, group, clients);
    } finally {
      for (DerpClient c : clients) {
        c.close();
      }
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static int idle(int n, List<DerpEndpoint> nodes, EventLoopGroup group, List<DerpClient> clients)
      throws IOException {
    int up = 0;
    String failure = null;
    for (int i = 0; i < n; i++) {
      try {
        clients.add(DerpClient.connect(nodes.get(0), NodePrivateKey.generate(), (k, p) -> { }, group,
            DerpClient.Options.defaults()));
        up++;
      } catch (IOException e) {
        failure = e.getMessage();
        break;
      }
    }
    System.out.println(new ResultLine().put("bench", "relay-idle").put("clients_up", up)
        .put("ok", up == n ? "yes" : "no"));
    System.out.flush();
    if (failure != null) {
      System.err.println("relay-mesh-bench: client " + (up + 1) + " could not connect: " + failure);
      return 1;
    }
    // Held until the script has read the relay's memory and closes our stdin.
    while (System.in.read() >= 0) {
      // wait
    }
    return 0;
  }

  private static int load(BenchArgs a, List<DerpEndpoint> nodes, EventLoopGroup group, List<DerpClient> clients)
      throws Exception {
    int pairs = a.positiveInt("pairs", 64);
    int rate = a.positiveInt("rate", 1000);
    int size = a.positiveInt("size", 1200);
    double warmup = a.seconds("warmup", 3);
    double duration = a.seconds("duration", 60);
    int hop = a.string("local", "no").equals("yes") ? 0 : 1;
    LongAdder sent = new LongAdder();
    LongAdder received = new LongAdder();
    List<EventLoop> loops = new ArrayList<>();
    group.forEach(e -> loops.add((EventLoop) e));
    ByteBuf filler = Unpooled.unreleasableBuffer(Unpooled.directBuffer(size).writeZero(size).asReadOnly());
    List<Runnable> senders = new ArrayList<>();
    List<java.util.concurrent.atomic.AtomicLong> heard = new ArrayList<>();
    List<Runnable> probes = new ArrayList<>();
    for (int i = 0; i < pairs; i++) {
      NodePrivateKey rk = NodePrivateKey.generate();
      java.util.concurrent.atomic.AtomicLong got = new java.util.concurrent.atomic.AtomicLong();
      heard.add(got);
      DerpClientListener count = (k, p) -> {
        got.incrementAndGet();
        received.increment();
      };
      clients.add(DerpClient.connect(nodes.get((i + hop) % nodes.size()), rk, count, loops.get((i + 1) % loops.size()),
          DerpClient.Options.defaults()));
      DerpClient s = DerpClient.connect(nodes.get(i % nodes.size()), NodePrivateKey.generate(), (k, p) -> { },
          loops.get(i % loops.size()), DerpClient.Options.defaults());
      clients.add(s);
      NodePublicKey to = rk.publicKey();
      probes.add(() -> s.send(to, filler.retainedDuplicate()));
      senders.add(() -> {
        for (int n = 0; n < rate * TICK_MILLIS / 1000; n++) {
          if (s.send(to, filler.retainedDuplicate())) {
            sent.increment();
          }
        }
      });
    }
    // Every pair gets one packet through before the clock starts: the relays know every receiver.
    long ready = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (heard.stream().anyMatch(h -> h.get() == 0)) {
      if (System.nanoTime() > ready) {
        System.err.println("relay-mesh-bench: some pairs never got a packet through");
        return 1;
      }
      for (int i = 0; i < pairs; i++) {
        if (heard.get(i).get() == 0) {
          probes.get(i).run();
        }
      }
      Thread.sleep(100);
    }
    // The relays' JIT settles under the load before it is measured.
    List<ScheduledFuture<?>> warm = new ArrayList<>();
    for (int i = 0; i < senders.size(); i++) {
      warm.add(loops.get(i % loops.size()).scheduleAtFixedRate(senders.get(i), 0, TICK_MILLIS, TimeUnit.MILLISECONDS));
    }
    Thread.sleep(Math.round(warmup * 1000));
    warm.forEach(t -> t.cancel(false));
    Thread.sleep(1000);
    List<ScheduledFuture<?>> ticks = new ArrayList<>();
    List<Long> relayPids = new ArrayList<>();
    for (String pid : a.string("relay-pids", "").split(",")) {
      if (!pid.isBlank()) {
        relayPids.add(Long.parseLong(pid.trim()));
      }
    }
    List<CpuSampler.Reading> cpu0 = relayPids.stream().map(p -> CpuSampler.read(List.of(p))).toList();
    long jit0 = jitTicks(relayPids);
    long r0 = received.sum();
    long s0 = sent.sum();
    long t0 = System.nanoTime();
    for (int i = 0; i < senders.size(); i++) {
      ticks.add(loops.get(i % loops.size()).scheduleAtFixedRate(senders.get(i), 0, TICK_MILLIS, TimeUnit.MILLISECONDS));
    }
    Thread.sleep(Math.round(duration * 1000));
    ticks.forEach(t -> t.cancel(false));
    long t1 = System.nanoTime();
    List<CpuSampler.Reading> cpu1 = relayPids.stream().map(p -> CpuSampler.read(List.of(p))).toList();
    long jit1 = jitTicks(relayPids);
    // In-flight packets arrive, or are lost, within a second on loopback.
    long seen = -1;
    while (received.sum() != seen) {
      seen = received.sum();
      Thread.sleep(500);
    }
    long s = sent.sum() - s0;
    long r = received.sum() - r0;
    double seconds = (t1 - t0) / 1e9;
    System.out.println(new ResultLine().put("bench", "relay-mesh").put("label", a.string("label", nodes.size() + "-nodes"))
        .put("nodes", nodes.size()).put("placement", hop == 0 ? "local" : "across").put("pairs", pairs).put("rate_per_pair", rate).put("size", size)
        .put("seconds", seconds, 1).put("sent", s).put("received", r)
        .put("pkts_per_s", r / seconds, 0).put("loss_pct", s == 0 ? 0 : 100.0 * (s - r) / s, 3)
        .put("relay_cpu_s", cpuSeconds(cpu0, cpu1))
        .put("relay_cpu_us_per_pkt", r == 0 ? 0 : totalCpu(cpu0, cpu1) * 1e6 / r, 2)
        .put("relay_jit_cpu_s", (jit1 - jit0) / TICKS_PER_SECOND, 1)
        .put("relay_cpu_us_per_pkt_no_jit", r == 0 ? 0 : (totalCpu(cpu0, cpu1) - (jit1 - jit0) / TICKS_PER_SECOND) * 1e6 / r, 2));
    return 0;
  }

  private static final double TICKS_PER_SECOND = 100;

  /**
   * Clock ticks the relays' JIT compiler threads ("C1/C2 CompilerThread") have used: a relay
   * still compiling its hot paths spends much of its CPU there, three relays compile the same code
   * three times, and each of them, seeing a third of the traffic, takes longer to finish. The
   * figure without it is the relays' steady state. 0 where /proc cannot be read.
   */
  private static long jitTicks(List<Long> pids) {
    long sum = 0;
    for (long pid : pids) {
      java.nio.file.Path tasks = java.nio.file.Path.of("/proc", Long.toString(pid), "task");
      try (java.nio.file.DirectoryStream<java.nio.file.Path> ds = java.nio.file.Files.newDirectoryStream(tasks)) {
        for (java.nio.file.Path t : ds) {
          try {
            if (!java.nio.file.Files.readString(t.resolve("comm")).startsWith("C")
                || !java.nio.file.Files.readString(t.resolve("comm")).contains("CompilerThre")) {
              continue;
            }
            String stat = java.nio.file.Files.readString(t.resolve("stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            sum += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
          } catch (IOException | RuntimeException e) {
            // the thread ended meanwhile
          }
        }
      } catch (IOException e) {
        return 0;
      }
    }
    return sum;
  }

  /** Each relay's CPU seconds over the measurement, "a/b/c". */
  private static String cpuSeconds(List<CpuSampler.Reading> a, List<CpuSampler.Reading> b) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < a.size(); i++) {
      CpuSampler.Usage u = CpuSampler.between(a.get(i), b.get(i));
      double seconds = (b.get(i).nanos() - a.get(i).nanos()) / 1e9;
      sb.append(sb.length() == 0 ? "" : "/").append(String.format(java.util.Locale.ROOT, "%.1f", u.relay() * seconds));
    }
    return sb.toString();
  }

  private static double totalCpu(List<CpuSampler.Reading> a, List<CpuSampler.Reading> b) {
    double sum = 0;
    for (int i = 0; i < a.size(); i++) {
      sum += CpuSampler.between(a.get(i), b.get(i)).relay() * (b.get(i).nanos() - a.get(i).nanos()) / 1e9;
    }
    return sum;
  }
}
