package dev.derphole.transport.portmap;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Asks the IPv6 router's firewall, by PCP (RFC 6887 MAP for an IPv6 internal address), to open a
 * pinhole for our UDP port on our global IPv6 address: peers behind a stateful firewall of their
 * own can then reach us without both sides sending at once. NAT-PMP and UPnP IGDv1 have no IPv6,
 * so PCP alone is asked. The pinhole is kept like a NAT mapping ({@link PortMapper}: renewed at
 * half its lifetime, deleted on {@link #close()}), and its external address:port (usually our
 * own address and port) is handed to {@code onPinhole}.
 *
 * <p>Soft: no global IPv6 address, no IPv6 default gateway, or no answer means nothing happens.
 * The gateway comes from {@code /proc/net/ipv6_route}, so outside Linux there is none.
 */
public final class PinholeMapper implements AutoCloseable {
  private final PortMapper mapper;

  PinholeMapper(Supplier<Optional<InetAddress>> gateway, InetAddress source, int localPort, Executor executor,
      Consumer<String> log, GatewayPorts ports) {
    mapper = new PortMapper(gateway, localPort, executor, log, ports, Objects.requireNonNull(source, "source"));
  }

  /**
   * Starts asking for a pinhole for the first global IPv6 address among {@code ourCandidates}
   * (our interface addresses in the OS's order of preference); returns at once. With no such
   * address nothing is asked; {@link #close()} is still safe.
   *
   * @param localPort our UDP socket's port
   * @param executor runs the blocking exchanges (one at a time); not an event loop
   * @param log one line per event, PortMapper's style ({@code portmap=...})
   * @param onPinhole each pinhole granted, and each renewal that moved it, on an executor thread
   */
  public static PinholeMapper start(int localPort, Collection<InetSocketAddress> ourCandidates, Duration budget,
      Executor executor, Consumer<String> log, Consumer<InetSocketAddress> onPinhole) {
    Optional<InetAddress> source = globalIpv6(ourCandidates);
    if (source.isEmpty()) {
      return new PinholeMapper(null);
    }
    PinholeMapper pinholes = new PinholeMapper(RouteTable::defaultGateway6, source.get(), localPort, executor, log,
        GatewayPorts.STANDARD);
    pinholes.start(budget, onPinhole);
    return pinholes;
  }

  private PinholeMapper(PortMapper none) {
    mapper = none;
  }

  /** Starts the probe; the pinhole, and any renewal that moves it, go to {@code onPinhole}. */
  void start(Duration budget, Consumer<InetSocketAddress> onPinhole) {
    mapper.onChange(m -> onPinhole.accept(m.external()));
    mapper.map(budget);
  }

  /** The pinhole, while one is held. */
  public Optional<Mapping> current() {
    return mapper == null ? Optional.empty() : mapper.current();
  }

  /** The first global unicast IPv6 address (2000::/3) among {@code candidates}. */
  static Optional<InetAddress> globalIpv6(Collection<InetSocketAddress> candidates) {
    for (InetSocketAddress c : candidates) {
      InetAddress a = c.getAddress();
      if (a instanceof Inet6Address && (a.getAddress()[0] & 0xe0) == 0x20) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  /** Deletes the pinhole (best effort, bounded as {@link PortMapper#close()}). Idempotent. */
  @Override
  public void close() {
    if (mapper != null) {
      mapper.close();
    }
  }
}
