package dev.derphole.derp.client;

import dev.derphole.derp.io.Failures;
import dev.derphole.derp.net.IpLiteral;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Happy Eyeballs (RFC 8305) for the relay's TCP connection: a relay with both an IPv4 and an IPv6
 * address (the map's {@code IPv4}/{@code IPv6}, or DNS's answers) is reached over whichever
 * family works, without waiting for the other to time out.
 *
 * <p>The addresses are tried in {@link #order}: the families interleaved, IPv6 first (section
 * 4). A new attempt starts {@link #ATTEMPT_DELAY} after the last one, or at once when the last
 * one failed (section 5); the first TCP connection to complete wins and the other attempts are
 * closed, before they have sent anything but their own handshake's first bytes.
 */
final class HappyEyeballs {
  /** RFC 8305's recommended Connection Attempt Delay. */
  static final Duration ATTEMPT_DELAY = Duration.ofMillis(250);

  private HappyEyeballs() {}

  /** {@code addresses} with the families interleaved, IPv6 first, each family in its given order. */
  static List<InetSocketAddress> order(List<InetSocketAddress> addresses) {
    List<InetSocketAddress> v6 = new ArrayList<>();
    List<InetSocketAddress> v4 = new ArrayList<>();
    for (InetSocketAddress a : addresses) {
      (a.getAddress() instanceof Inet6Address ? v6 : v4).add(a);
    }
    List<InetSocketAddress> out = new ArrayList<>(addresses.size());
    for (int i = 0; i < Math.max(v6.size(), v4.size()); i++) {
      if (i < v6.size()) {
        out.add(v6.get(i));
      }
      if (i < v4.size()) {
        out.add(v4.get(i));
      }
    }
    return out;
  }

  /** The attempt that won: its channel, connected, and the address it dialled. */
  record Connected(Channel channel, InetSocketAddress address) {}

  /**
   * Connects {@code bootstrap} to one of {@code addresses} (already in order), racing them as
   * above, within {@code budgetNanos}. Blocks; the winner's channel is connected, every other
   * attempt is closed.
   *
   * @throws IOException with every address's failure (just the reason if there is one address), in one line,
   *     when none connects in time
   */
  static Connected connect(Bootstrap bootstrap, List<InetSocketAddress> addresses, Duration attemptDelay, long budgetNanos)
      throws IOException {
    long deadline = System.nanoTime() + budgetNanos;
    BlockingQueue<ChannelFuture> done = new LinkedBlockingQueue<>();
    java.util.Map<ChannelFuture, InetSocketAddress> attempts = new java.util.LinkedHashMap<>();
    List<String> failures = new ArrayList<>();
    int next = 0;
    int running = 0;
    long nextStart = System.nanoTime();
    try {
      while (true) {
        long now = System.nanoTime();
        if (next < addresses.size() && (running == 0 || now >= nextStart)) {
          InetSocketAddress to = addresses.get(next++);
          ChannelFuture f = bootstrap.connect(to);
          attempts.put(f, to);
          running++;
          if (f.isDone()) {
            done.add(f); // failed at once (e.g. could not register): no event loop to notify us
          } else {
            f.addListener(x -> done.add((ChannelFuture) x));
          }
          nextStart = now + attemptDelay.toNanos();
          continue;
        }
        if (running == 0) {
          throw new IOException(String.join("; ", failures));
        }
        long wait = (next < addresses.size() ? Math.min(nextStart, deadline) : deadline) - now;
        if (wait <= 0 && now >= deadline) {
          throw new IOException("timed out connecting" + (failures.isEmpty() ? "" : " (" + String.join("; ", failures) + ")"));
        }
        ChannelFuture f = done.poll(Math.max(wait, 0), TimeUnit.NANOSECONDS);
        if (f == null) {
          continue; // time for the next attempt, or the deadline
        }
        running--;
        if (f.isSuccess()) {
          InetSocketAddress to = attempts.remove(f);
          return new Connected(f.channel(), to);
        }
        String why = Failures.describe(f.cause());
        failures.add(addresses.size() == 1 ? why : IpLiteral.format(attempts.get(f)) + ": " + why);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while connecting");
    } finally {
      for (ChannelFuture f : attempts.keySet()) {
        f.channel().close(); // the losers, and everything on failure
      }
    }
  }
}
