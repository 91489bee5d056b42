package dev.derphole.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * UDP datagrams at a fixed rate, and their one-way latency: sends {@code --size}-byte datagrams
 * (sequence number and send time inside) to {@code --to} at {@code --rate} per second for
 * {@code --seconds}, and receives them on {@code --receive} (127.0.0.1), where the forwarder under
 * test delivers them. Sender and receiver share this process's clock, so the latency is one-way.
 * Before measuring it sends one datagram every 10 ms until one arrives (a forwarder sets its flow
 * up on the first), then one second at the rate that is not counted.
 *
 * <pre>
 *   java -cp derphole-bench.jar dev.derphole.bench.UdpLatencyBench --receive 40000 --to 127.0.0.1:40001 \
 *       --rate 10000 --seconds 10 [--size 1200]
 *   RESULT sent=100000 received=99998 loss_pct=0.002 rx_per_s=9999.8 p50_us=85.1 p99_us=210.4
 * </pre>
 */
public final class UdpLatencyBench {
  private UdpLatencyBench() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = BenchArgs.parse(args, Set.of("receive", "to", "rate", "seconds", "size"));
    int receivePort = a.positiveInt("receive", 0);
    String[] to = a.required("to").split(":");
    InetSocketAddress target = new InetSocketAddress(to[0], Integer.parseInt(to[1]));
    int rate = a.positiveInt("rate", 10_000);
    int seconds = a.positiveInt("seconds", 10);
    int size = a.positiveInt("size", 1200);
    if (size < 16) {
      throw new IllegalArgumentException("--size must be at least 16");
    }
    int total = Math.multiplyExact(rate, seconds);
    long[] latency = new long[total];
    Arrays.fill(latency, -1);
    try (DatagramChannel rx = DatagramChannel.open(); DatagramChannel tx = DatagramChannel.open()) {
      rx.setOption(StandardSocketOptions.SO_RCVBUF, 8 << 20);
      rx.bind(new InetSocketAddress("127.0.0.1", receivePort));
      tx.setOption(StandardSocketOptions.SO_SNDBUF, 8 << 20);
      tx.connect(target);
      long[] received = new long[1];
      boolean[] warm = new boolean[1];
      Thread reader = new Thread(() -> {
        ByteBuffer b = ByteBuffer.allocateDirect(65536);
        try {
          while (true) {
            b.clear();
            rx.receive(b);
            long now = System.nanoTime();
            b.flip();
            if (b.remaining() < 16) {
              continue;
            }
            long seq = b.getLong();
            long sent = b.getLong();
            if (seq < 0) {
              synchronized (warm) {
                warm[0] = true;
                warm.notifyAll();
              }
            } else if (seq < total) {
              latency[(int) seq] = now - sent;
              received[0]++;
            }
          }
        } catch (IOException closed) {
          // done
        }
      }, "udp-bench-rx");
      reader.setDaemon(true);
      reader.start();
      ByteBuffer out = ByteBuffer.allocateDirect(size);
      // Warm-up: until the forwarder delivers one; then one second at the rate, not counted.
      long deadline = System.nanoTime() + 30_000_000_000L;
      synchronized (warm) {
        while (!warm[0]) {
          if (System.nanoTime() > deadline) {
            throw new IOException("no datagram came through " + a.required("to") + " within 30 s");
          }
          send(tx, out, -1, size);
          warm.wait(10);
        }
      }
      pace(tx, out, rate, rate, size, -2);
      long start = System.nanoTime();
      pace(tx, out, rate, total, size, 0);
      long sendNanos = System.nanoTime() - start;
      Thread.sleep(1000); // the last datagrams in flight
      rx.close();
      reader.join(2000);
      long[] seen = Arrays.stream(latency).filter(l -> l >= 0).sorted().toArray();
      long got = seen.length;
      ResultLine r = new ResultLine()
          .put("sent", total)
          .put("received", got)
          .put("loss_pct", 100.0 * (total - got) / total, 3)
          .put("tx_per_s", total / (sendNanos / 1e9), 1)
          .put("rx_per_s", got / (sendNanos / 1e9), 1)
          .put("p50_us", got == 0 ? 0 : seen[(int) (got * 0.50)] / 1e3, 1)
          .put("p99_us", got == 0 ? 0 : seen[(int) Math.min(got - 1, got * 0.99)] / 1e3, 1);
      System.out.println(r);
    }
  }

  /** Sends {@code count} datagrams at {@code rate} per second, numbered from {@code first} (negative: warm-up). */
  private static void pace(DatagramChannel tx, ByteBuffer out, int rate, int count, int size, long first) throws IOException {
    long interval = 1_000_000_000L / rate;
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      long due = start + i * interval;
      long wait = due - System.nanoTime();
      if (wait > 20_000) {
        LockSupport.parkNanos(wait - 10_000);
      }
      while (System.nanoTime() < due) {
        Thread.onSpinWait();
      }
      send(tx, out, first < 0 ? first : i, size);
    }
  }

  private static void send(DatagramChannel tx, ByteBuffer out, long seq, int size) throws IOException {
    out.clear();
    out.putLong(seq).putLong(System.nanoTime());
    out.position(size);
    out.flip();
    try {
      tx.write(out);
    } catch (java.net.PortUnreachableException e) {
      // the forwarder is not up yet (warm-up); a measured datagram lost this way counts as lost
    }
  }
}
