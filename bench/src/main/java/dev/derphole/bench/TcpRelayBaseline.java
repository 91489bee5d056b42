package dev.derphole.bench;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The plain-TCP baseline beside {@link DerpRelayBench}: the same shape, one relay process between
 * N senders and their receivers, with no framing, no TLS and no routing.
 *
 * <pre>
 *   sender 1 ──TCP──▶ ┌──────────────────────────────────┐ ──TCP──▶ sink
 *      ...            │ socat TCP-LISTEN:P,fork TCP:…:Q  │           ...
 *   sender N ──TCP──▶ └──────────────────────────────────┘ ──TCP──▶ sink
 * </pre>
 *
 * This program starts {@code socat} itself (and stops it, forked children included), so the
 * relay's port never races with a script. Senders write {@code --write-size} chunks; the sink
 * counts bytes. Prints one {@link ResultLine}; {@code --duration}/{@code --warmup} or
 * {@code --bytes} per pair, as in {@link DerpRelayBench}.
 *
 * <p>With {@code --tls-cert PEM} (key and certificate in one file) every hop is TLS instead, the
 * work a TLS relay does: socat's relay ends each sender's TLS and opens its own to the sink. The
 * senders ({@code socat OPEN:/dev/zero OPENSSL:…}) and the sink ({@code socat OPENSSL-LISTEN:…
 * STDOUT}, counted here) are socat processes too, so all the cryptography is OpenSSL's, and their
 * CPU counts as the clients'. Duration runs only.
 */
public final class TcpRelayBaseline {
  private static final Set<String> FLAGS =
      Set.of("pairs", "duration", "warmup", "bytes", "write-size", "socat", "socat-buffer", "tls-cert", "label");
  private static final Duration SOCAT_START_LIMIT = Duration.ofSeconds(5);
  /** Upper bound on a --bytes run. */
  private static final Duration BYTES_LIMIT = Duration.ofMinutes(2);
  private static final int SINK_BUFFER = 1 << 20;

  private TcpRelayBaseline() {}

  public static void main(String[] args) throws InterruptedException {
    System.exit(run(args));
  }

  /** Runs once and prints the result line; returns the exit status (0 ok, 1 run failed, 2 usage). */
  static int run(String[] args) throws InterruptedException {
    BenchArgs a;
    int pairs;
    boolean byBytes;
    long perPair;
    double warmup;
    double duration;
    int writeSize;
    int socatBuffer;
    try {
      // Every value is read here, so a bad one gets the one-line message and the usage.
      a = BenchArgs.parse(args, FLAGS);
      pairs = a.positiveInt("pairs", 1);
      byBytes = a.has("bytes");
      perPair = byBytes ? a.positiveLong("bytes", 0) : Long.MAX_VALUE;
      warmup = byBytes ? 0 : a.seconds("warmup", 1);
      duration = a.seconds("duration", 5);
      writeSize = a.positiveInt("write-size", 64 << 10);
      socatBuffer = a.positiveInt("socat-buffer", 1 << 20);
    } catch (IllegalArgumentException e) {
      System.err.println("tcp-relay-baseline: " + e.getMessage());
      System.err.println("usage: TcpRelayBaseline [--pairs N] [--duration S [--warmup S] | --bytes PER_PAIR] "
          + "[--write-size BYTES] [--socat PATH] [--socat-buffer BYTES] [--tls-cert PEM] [--label TEXT]");
      return 2;
    }
    if (a.has("tls-cert")) {
      if (byBytes) {
        System.err.println("tcp-relay-baseline: --tls-cert measures by --duration only, not --bytes");
        return 2;
      }
      return runTls(a, pairs, warmup, duration, writeSize, socatBuffer);
    }

    InetAddress loopback = InetAddress.getLoopbackAddress();
    Sink sink = null;
    Process socat = null;
    List<Thread> senders = new ArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    try {
      sink = new Sink(new InetSocketAddress(loopback, 0));
      int relayPort = freePort(loopback);
      socat = start(ProcessBuilder.Redirect.DISCARD, a.string("socat", "socat"), "-b", Integer.toString(socatBuffer),
          "TCP-LISTEN:" + relayPort + ",bind=" + loopback.getHostAddress() + ",fork,reuseaddr",
          "TCP:" + loopback.getHostAddress() + ":" + sink.port());
      InetSocketAddress relay = new InetSocketAddress(loopback, relayPort);
      List<SocketChannel> connections = connectAll(relay, pairs, socat);

      Process relayProcess = socat;
      long t0 = System.nanoTime();
      for (SocketChannel c : connections) {
        Thread t = new Thread(() -> push(c, writeSize, perPair, running), "tcp-sender");
        t.start();
        senders.add(t);
      }
      long measuredBytes;
      double seconds;
      boolean complete = true;
      CpuSampler.Reading c0;
      if (byBytes) {
        c0 = CpuSampler.read(CpuSampler.withDescendants(relayProcess.toHandle()));
        long want = perPair * pairs;
        long last = t0;
        long seen = 0;
        long deadline = t0 + BYTES_LIMIT.toNanos();
        while (seen < want && System.nanoTime() < deadline) {
          Thread.sleep(1);
          long got = sink.bytes();
          if (got != seen) {
            seen = got;
            last = System.nanoTime();
          }
        }
        measuredBytes = seen;
        seconds = (last - t0) / 1e9;
        complete = seen >= want;
      } else {
        Thread.sleep(Math.round(warmup * 1000));
        c0 = CpuSampler.read(CpuSampler.withDescendants(relayProcess.toHandle()));
        long s0 = System.nanoTime();
        long b0 = sink.bytes();
        Thread.sleep(Math.round(duration * 1000));
        long b1 = sink.bytes();
        seconds = (System.nanoTime() - s0) / 1e9;
        measuredBytes = b1 - b0;
      }
      CpuSampler.Reading c1 = CpuSampler.read(CpuSampler.withDescendants(relayProcess.toHandle()));
      running.set(false);
      ResultLine line = result(a.string("label", "socat"), pairs, writeSize, socatBuffer, seconds, measuredBytes,
          complete);
      if (!byBytes) {
        // With --bytes, socat's children exit with their connections before the second reading.
        CpuSampler.addTo(line, CpuSampler.between(c0, c1));
      }
      System.out.println(line);
      if (!complete) {
        System.err.println("tcp-relay-baseline: only " + measuredBytes + " bytes arrived within "
            + BYTES_LIMIT.toMinutes() + " minutes");
      }
      return complete ? 0 : 1;
    } catch (IOException e) {
      System.err.println("tcp-relay-baseline: " + e.getMessage());
      return 1;
    } finally {
      running.set(false);
      if (socat != null) {
        stop(socat); // unblocks senders stuck in write
      }
      for (Thread t : senders) {
        t.join(2000);
      }
      if (sink != null) {
        sink.close();
      }
    }
  }

  /** The all-TLS baseline: socat senders, relay and sink (see the class comment). */
  private static int runTls(BenchArgs a, int pairs, double warmup, double duration, int writeSize, int socatBuffer)
      throws InterruptedException {
    String socatPath = a.string("socat", "socat");
    String pem = a.string("tls-cert", "");
    String host = InetAddress.getLoopbackAddress().getHostAddress();
    List<Process> started = new ArrayList<>();
    try {
      int sinkPort = freePort(InetAddress.getLoopbackAddress());
      Process sink = started(started, ProcessBuilder.Redirect.PIPE, socatPath, "-u", "-b", Integer.toString(socatBuffer),
          "OPENSSL-LISTEN:" + sinkPort + ",bind=" + host + ",fork,reuseaddr,cert=" + pem + ",verify=0", "STDOUT");
      AtomicLong received = new AtomicLong();
      Thread counter = new Thread(() -> count(sink, received), "tls-sink-count");
      counter.setDaemon(true);
      counter.start();
      int relayPort = freePort(InetAddress.getLoopbackAddress());
      Process relay = started(started, ProcessBuilder.Redirect.DISCARD, socatPath, "-b", Integer.toString(socatBuffer),
          "OPENSSL-LISTEN:" + relayPort + ",bind=" + host + ",fork,reuseaddr,cert=" + pem + ",verify=0",
          "OPENSSL:" + host + ":" + sinkPort + ",verify=0");
      awaitListening(sinkPort, sink);
      awaitListening(relayPort, relay);
      List<Process> senders = new ArrayList<>();
      for (int i = 0; i < pairs; i++) {
        senders.add(started(started, ProcessBuilder.Redirect.DISCARD, socatPath, "-u", "-b", Integer.toString(writeSize),
            "OPEN:/dev/zero", "OPENSSL:" + host + ":" + relayPort + ",verify=0"));
      }
      Thread.sleep(Math.round(warmup * 1000));
      List<Long> clientPids = new ArrayList<>(CpuSampler.withDescendants(sink.toHandle()));
      senders.forEach(p -> clientPids.add(p.pid()));
      CpuSampler.Reading c0 = CpuSampler.read(CpuSampler.withDescendants(relay.toHandle()), clientPids);
      long s0 = System.nanoTime();
      long b0 = received.get();
      Thread.sleep(Math.round(duration * 1000));
      long b1 = received.get();
      double seconds = (System.nanoTime() - s0) / 1e9;
      CpuSampler.Reading c1 = CpuSampler.read(CpuSampler.withDescendants(relay.toHandle()), clientPids);
      boolean complete = senders.stream().allMatch(Process::isAlive) && b1 > b0;
      ResultLine line = result(a.string("label", "socat-tls"), pairs, writeSize, socatBuffer, seconds, b1 - b0, complete)
          .put("tls", "openssl");
      CpuSampler.addTo(line, CpuSampler.between(c0, c1));
      System.out.println(line);
      if (!complete) {
        System.err.println("tcp-relay-baseline: a TLS sender ended early, or nothing arrived");
      }
      return complete ? 0 : 1;
    } catch (IOException e) {
      System.err.println("tcp-relay-baseline: " + e.getMessage());
      return 1;
    } finally {
      for (int i = started.size() - 1; i >= 0; i--) {
        stop(started.get(i));
      }
    }
  }

  private static ResultLine result(String label, int pairs, int writeSize, int socatBuffer, double seconds, long bytes,
      boolean complete) {
    return new ResultLine()
        .put("bench", "tcp-relay")
        .put("label", label)
        .put("pairs", pairs)
        .put("write_size", writeSize)
        .put("socat_buffer", socatBuffer)
        .put("seconds", seconds, 3)
        .put("received_bytes", bytes)
        .put("gbit_per_s", ResultLine.gbitPerSecond(bytes, seconds), 3)
        .put("ok", complete ? "yes" : "no");
  }

  /** Starts a process whose errors go to ours. */
  private static Process start(ProcessBuilder.Redirect out, String... command) throws IOException {
    return new ProcessBuilder(command).redirectOutput(out).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  /** {@link #start}s a process and adds it to {@code started}, to be stopped at the end. */
  private static Process started(List<Process> started, ProcessBuilder.Redirect out, String... command)
      throws IOException {
    Process p = start(out, command);
    started.add(p);
    return p;
  }

  /** Counts the bytes the TLS sink writes to its standard output. */
  private static void count(Process sink, AtomicLong received) {
    byte[] buf = new byte[SINK_BUFFER];
    try (var in = sink.getInputStream()) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        received.addAndGet(n);
      }
    } catch (IOException e) {
      // the sink was stopped
    }
  }

  /** Waits until a socket listens on {@code port} of this machine, from {@code /proc/net/tcp}. */
  private static void awaitListening(int port, Process owner) throws IOException, InterruptedException {
    String local = String.format(":%04X", port);
    long deadline = System.nanoTime() + SOCAT_START_LIMIT.toNanos();
    while (true) {
      for (String row : Files.readAllLines(Path.of("/proc/net/tcp"))) {
        String[] f = row.trim().split("\\s+");
        if (f.length > 3 && f[1].endsWith(local) && f[3].equals("0A")) {
          return;
        }
      }
      if (!owner.isAlive()) {
        throw new IOException("socat exited with status " + owner.exitValue() + " before listening on port " + port);
      }
      if (System.nanoTime() > deadline) {
        throw new IOException(
            "socat did not listen on port " + port + " within " + SOCAT_START_LIMIT.toSeconds() + " s");
      }
      Thread.sleep(20);
    }
  }

  /** Connects every sender through socat, waiting for socat to listen first. */
  private static List<SocketChannel> connectAll(InetSocketAddress relay, int pairs, Process socat)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + SOCAT_START_LIMIT.toNanos();
    List<SocketChannel> out = new ArrayList<>();
    while (out.size() < pairs) {
      try {
        out.add(SocketChannel.open(relay));
      } catch (ConnectException e) {
        if (!socat.isAlive()) {
          throw new IOException("socat exited with status " + socat.exitValue() + " before listening on " + relay);
        }
        if (System.nanoTime() > deadline) {
          throw new IOException("socat did not listen on " + relay + " within " + SOCAT_START_LIMIT.toSeconds() + " s");
        }
        Thread.sleep(20);
      }
    }
    return out;
  }

  private static void push(SocketChannel c, int writeSize, long budget, AtomicBoolean running) {
    ByteBuffer chunk = ByteBuffer.allocateDirect(writeSize);
    long left = budget;
    try (c) {
      while (running.get() && left > 0) {
        chunk.clear();
        if (left < writeSize) {
          chunk.limit((int) left);
        }
        while (chunk.hasRemaining()) {
          left -= c.write(chunk);
        }
      }
    } catch (IOException e) {
      if (running.get()) {
        System.err.println("tcp-relay-baseline: sender failed: " + e.getMessage());
      }
    }
  }

  /** Ends socat and the child it forked for each connection. */
  private static void stop(Process socat) throws InterruptedException {
    List<ProcessHandle> children = socat.descendants().toList();
    socat.destroy();
    children.forEach(ProcessHandle::destroy);
    if (!socat.waitFor(2, TimeUnit.SECONDS)) {
      socat.destroyForcibly();
      children.forEach(ProcessHandle::destroyForcibly);
    }
  }

  private static int freePort(InetAddress on) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, on)) {
      return s.getLocalPort();
    }
  }

  /** Accepts connections from socat and counts what arrives, one thread per connection. */
  private static final class Sink implements AutoCloseable {
    private final ServerSocketChannel server;
    private final AtomicLong bytes = new AtomicLong();
    private final List<SocketChannel> accepted = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    Sink(InetSocketAddress bind) throws IOException {
      server = ServerSocketChannel.open().bind(bind);
      acceptor = new Thread(this::acceptLoop, "tcp-sink-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() throws IOException {
      return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    long bytes() {
      return bytes.get();
    }

    private void acceptLoop() {
      while (server.isOpen()) {
        try {
          SocketChannel c = server.accept();
          accepted.add(c);
          Thread t = new Thread(() -> drain(c), "tcp-sink");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private void drain(SocketChannel c) {
      ByteBuffer buf = ByteBuffer.allocateDirect(SINK_BUFFER);
      try (c) {
        int n;
        while ((n = c.read(buf)) >= 0) {
          bytes.addAndGet(n);
          buf.clear();
        }
      } catch (IOException e) {
        // closed at the end of the run
      }
    }

    @Override
    public void close() {
      try {
        server.close();
        for (SocketChannel c : accepted) {
          c.close();
        }
      } catch (IOException e) {
        System.err.println("tcp-relay-baseline: closing the sink: " + e.getMessage());
      }
    }
  }
}
