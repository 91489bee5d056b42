package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Which port-mapping protocols the gateway speaks, for {@code netcheck}: PCP, NAT-PMP and UPnP IGD
 * each asked, at once and independently (where {@link PortMapper} stops at the first that
 * works), for a short mapping of a UDP port of its own, which is deleted again at once. A
 * protocol counts as offered when its gateway granted the mapping. Each protocol maps a
 * different local port (a socket held open meanwhile), so the three never ask for the same
 * forwarding.
 */
public final class GatewaySurvey {
  /** How long each deletion may take. */
  static final Duration RELEASE_BUDGET = Duration.ofSeconds(1);

  private GatewaySurvey() {}

  /**
   * What one protocol answered.
   *
   * @param protocol {@link Mapping#PCP}, {@link Mapping#NAT_PMP} or {@link Mapping#UPNP}
   * @param external the mapping it granted (deleted since), or empty with {@code failure} saying why
   */
  public record Answer(String protocol, Optional<InetSocketAddress> external, String failure) {
    public boolean offered() {
      return external.isPresent();
    }
  }

  /**
   * Asks the gateway (null: the default route's) with each protocol, for at most {@code budget}
   * (plus a deletion of at most a second). Never throws for a network reason.
   *
   * @return one answer per protocol, in the order PCP, NAT-PMP, UPnP
   */
  public static List<Answer> run(InetAddress gateway, Duration budget, Consumer<String> log) {
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(log, "log");
    Optional<InetAddress> gw = gateway != null ? Optional.of(gateway) : PortMapper.defaultGateway();
    List<String> protocols = List.of(Mapping.PCP, Mapping.NAT_PMP, Mapping.UPNP);
    if (gw.isEmpty()) {
      return protocols.stream().map(p -> new Answer(p, Optional.empty(), "no default gateway")).toList();
    }
    InetAddress g = gw.get();
    InFlight inFlight = new InFlight();
    Deadline deadline = Deadline.after(budget);
    ExecutorService pool = Executors.newFixedThreadPool(protocols.size(), r -> {
      Thread t = new Thread(r, "derphole-gateway-survey");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<Answer>> pending = new ArrayList<>();
      for (String p : protocols) {
        pending.add(pool.submit(() -> ask(p, g, deadline, inFlight, log)));
      }
      List<Answer> answers = new ArrayList<>();
      long waitUntil = System.nanoTime() + budget.toNanos() + RELEASE_BUDGET.toNanos() + TimeUnit.MILLISECONDS.toNanos(200);
      for (int i = 0; i < protocols.size(); i++) {
        try {
          answers.add(pending.get(i).get(Math.max(1, waitUntil - System.nanoTime()), TimeUnit.NANOSECONDS));
        } catch (TimeoutException | ExecutionException e) {
          answers.add(new Answer(protocols.get(i), Optional.empty(), "no answer within " + budget.toMillis() + " ms"));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          answers.add(new Answer(protocols.get(i), Optional.empty(), "interrupted"));
        }
      }
      return answers;
    } finally {
      deadline.cancel();
      inFlight.abortAll();
      pool.shutdownNow();
    }
  }

  private static Answer ask(String protocol, InetAddress gateway, Deadline deadline, InFlight inFlight,
      Consumer<String> log) {
    try (DatagramSocket hold = new DatagramSocket(0)) {
      int port = hold.getLocalPort();
      InetSocketAddress control = new InetSocketAddress(gateway, GatewayPorts.STANDARD.portControl());
      Lease lease = switch (protocol) {
        case Mapping.PCP -> new PcpClient(control, port, inFlight).map(deadline);
        case Mapping.NAT_PMP -> new NatPmpClient(control, port, inFlight).map(deadline);
        default -> new UpnpClient(gateway, GatewayPorts.STANDARD.ssdpTargets(gateway), port, inFlight).map(deadline);
      };
      InetSocketAddress external = lease.mapping().external();
      log.accept("portmap-survey " + protocol + " mapped " + IpLiteral.format(external));
      try {
        lease.release(Deadline.after(RELEASE_BUDGET));
      } catch (IOException | RuntimeException e) {
        log.accept("portmap-survey " + protocol + ": could not delete the test mapping (" + e.getMessage()
            + "); the gateway drops it when its lifetime ends");
      }
      return new Answer(protocol, Optional.of(external), "");
    } catch (IOException | RuntimeException e) {
      log.accept("portmap-survey " + protocol + ": " + e.getMessage());
      return new Answer(protocol, Optional.empty(), String.valueOf(e.getMessage()));
    }
  }
}
