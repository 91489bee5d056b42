package dev.derphole.transport.portmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every PortMapper test needs: an executor, a log, a port that swallows datagrams, and on
 * close the proof that nothing leaked: every mapper closed, every executor task ended, our
 * scheduler thread gone.
 */
final class MapperFixture implements AutoCloseable {
  static final int LOCAL_PORT = 41641;
  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final AtomicInteger threads = new AtomicInteger();
  final ExecutorService executor = Executors.newCachedThreadPool(task -> {
    Thread thread = new Thread(task, "portmap-test-" + threads.incrementAndGet());
    thread.setDaemon(true);
    return thread;
  });
  final List<String> log = new CopyOnWriteArrayList<>();
  private final Object logged = new Object();
  private final DatagramSocket silent;
  private final List<PortMapper> mappers = new ArrayList<>();

  MapperFixture() throws SocketException {
    silent = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
  }

  /** A mapper whose gateway is loopback, with PCP/NAT-PMP and SSDP at these ports. */
  PortMapper mapper(int portControl, int ssdp) {
    return mapper(LOOPBACK, portControl, ssdp);
  }

  PortMapper mapper(InetAddress gateway, int portControl, int ssdp) {
    PortMapper mapper = new PortMapper(() -> Optional.of(gateway), LOCAL_PORT, executor, this::record,
        new GatewayPorts(portControl, ssdp, false));
    mappers.add(mapper);
    return mapper;
  }

  /** A bound port that never answers. */
  int silentPort() {
    return silent.getLocalPort();
  }

  /** A port nothing is bound to, so the kernel answers ICMP port unreachable. */
  static int closedPort() throws SocketException {
    try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
      return probe.getLocalPort();
    }
  }

  /** The mappers' log consumer. */
  void record(String line) {
    synchronized (logged) {
      log.add(line);
      logged.notifyAll();
    }
  }

  /**
   * Whether a line containing {@code fragment} is logged within 5 s: a path that lost the race
   * with the budget reports its failure just after the answer.
   */
  boolean logged(String fragment) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    synchronized (logged) {
      while (log.stream().noneMatch(line -> line.contains(fragment))) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          return false;
        }
        logged.wait(left);
      }
      return true;
    }
  }

  static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  @Override
  public void close() {
    mappers.forEach(PortMapper::close);
    executor.shutdown();
    try {
      assertThat(executor.awaitTermination(5, TimeUnit.SECONDS)).as("every exchange ended").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for the exchanges to end", e);
    }
    silent.close();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.getName().startsWith("derphole-portmap-")) {
        join(thread);
        assertThat(thread.isAlive()).as("%s ended", thread.getName()).isFalse();
      }
    }
  }

  /** Waits up to 5 s for {@code thread} to end. */
  static void join(Thread thread) {
    try {
      thread.join(Duration.ofSeconds(5).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + thread.getName(), e);
    }
  }
}
