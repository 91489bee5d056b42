package dev.derphole.transport.netcheck;

import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.map.DerpRegion;
import dev.derphole.derp.net.IpLiteral;
import dev.derphole.transport.netcheck.NetcheckReport.GrantedMapping;
import dev.derphole.transport.netcheck.NetcheckReport.MappingBehaviour;
import dev.derphole.transport.netcheck.NetcheckReport.PortMappingAnswer;
import dev.derphole.transport.netcheck.NetcheckReport.RegionLatency;
import dev.derphole.transport.portmap.GatewaySurvey;
import dev.derphole.transport.portmap.Mapping;
import dev.derphole.transport.portmap.PortMapper;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code netcheck}: what this network lets a session do, in the spirit of Tailscale's netcheck.
 *
 * <pre>
 *  one UDP socket ── STUN to every node of every region (IPv4; IPv6 when we have it)
 *      │               → UDP works? our public address; mapping: the same port seen by every
 *      │                 server (endpoint-independent) or not (endpoint-dependent); latency per region
 *      ├── PortMapper on that socket's port → the mapping a session would get (then deleted)
 *      └── GatewaySurvey → which of PCP, NAT-PMP, UPnP the gateway grants (each mapping deleted)
 *  no UDP answer ── TCP connect time to each region's DERP node instead
 * </pre>
 *
 * Everything runs in parallel within {@link Options#timeout}; nothing here throws for a network
 * reason: what does not answer is reported as such.
 */
public final class Netcheck {
  /** The longest the STUN sweep and the gateway probes take, whatever the timeout. */
  static final Duration PROBE_CAP = Duration.ofSeconds(3);
  /** How long a TCP latency probe may take when UDP did not answer. */
  static final Duration TCP_CAP = Duration.ofMillis(1500);
  /**
   * The most STUN servers asked per address family. The map may come from anywhere; Tailscale's
   * public one has about a hundred IPv4 STUN servers.
   */
  static final int MAX_STUN_TARGETS = 256;
  /** The most regions timed over TCP (one thread each) when UDP does not answer. */
  static final int MAX_TCP_PROBES = 64;

  private Netcheck() {}

  /**
   * @param timeout the whole run's budget (at least 500 ms)
   * @param portMapping whether to ask the gateway at all
   * @param gateway the gateway to ask; null for the default route's
   * @param log one line per step, for {@code --verbose}
   */
  public record Options(Duration timeout, boolean portMapping, InetAddress gateway, Consumer<String> log) {
    public Options {
      Objects.requireNonNull(timeout, "timeout");
      Objects.requireNonNull(log, "log");
      if (timeout.compareTo(Duration.ofMillis(500)) < 0) {
        throw new IllegalArgumentException("timeout must be at least 500 ms, got " + timeout.toMillis() + " ms");
      }
    }
  }

  public static NetcheckReport run(DerpMap map, Options options) throws IOException {
    long deadline = System.nanoTime() + options.timeout().toNanos();
    Duration probe = min(PROBE_CAP, options.timeout().dividedBy(2));
    List<DerpRegion> regions = map.regions().values().stream().filter(r -> !r.noMeasureNoHome()).toList();
    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "derphole-netcheck");
      t.setDaemon(true);
      return t;
    });
    try (DatagramSocket v4 = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0))) {
      Future<List<GatewaySurvey.Answer>> survey = options.portMapping()
          ? pool.submit(() -> GatewaySurvey.run(options.gateway(), probe, options.log()))
          : CompletableFuture.completedFuture(List.of());
      PortMapper mapper = options.portMapping()
          ? new PortMapper(options.gateway(), v4.getLocalPort(), pool, options.log()) : null;
      CompletableFuture<Optional<Mapping>> granted = mapper != null ? mapper.map(probe)
          : CompletableFuture.completedFuture(Optional.empty());
      Future<List<StunSweep.Answer>> v6answers = pool.submit(() -> sweepIpv6(regions, probe, options.log()));
      List<StunSweep.Answer> v4answers = StunSweep.run(v4, targets(regions, Inet4Address.class), probe);
      options.log().accept("stun ipv4: " + v4answers.size() + " answers");
      List<StunSweep.Answer> v6 = get(v6answers, deadline, List.of());
      Optional<Mapping> mapping = get(granted, deadline, Optional.empty());
      if (mapper != null) {
        mapper.close(); // deletes the mapping again
      }
      List<GatewaySurvey.Answer> gateway = get(survey, deadline, List.of());

      boolean udp = !v4answers.isEmpty() || !v6.isEmpty();
      Map<Integer, Duration> latency = new HashMap<>();
      String via = "stun";
      for (StunSweep.Answer a : concat(v4answers, v6)) {
        latency.merge(a.target().regionId(), a.rtt(), (x, y) -> x.compareTo(y) <= 0 ? x : y);
      }
      if (!udp) {
        via = "tcp";
        latency.putAll(tcpLatency(regions, pool, deadline, options.log()));
      }
      return new NetcheckReport(udp, mostCommon(v4answers), mostCommon(v6), mappingOf(v4answers),
          distinctServers(v4answers), gateway.stream()
              .map(a -> new PortMappingAnswer(a.protocol(), a.offered(), a.external())).toList(),
          mapping.map(m -> new GrantedMapping(m.protocol(), m.external(), m.lifetime())),
          ordered(regions, latency, via), fastest(latency));
    } finally {
      pool.shutdownNow();
    }
  }

  /** Same mapped address from at least two servers: independent; any difference: dependent. */
  static MappingBehaviour mappingOf(List<StunSweep.Answer> answers) {
    if (distinctServers(answers) < 2) {
      return MappingBehaviour.UNKNOWN;
    }
    Set<InetSocketAddress> mapped = new HashSet<>();
    for (StunSweep.Answer a : answers) {
      mapped.add(a.mapped());
    }
    return mapped.size() == 1 ? MappingBehaviour.ENDPOINT_INDEPENDENT : MappingBehaviour.ENDPOINT_DEPENDENT;
  }

  static int distinctServers(List<StunSweep.Answer> answers) {
    Set<InetSocketAddress> servers = new HashSet<>();
    for (StunSweep.Answer a : answers) {
      servers.add(a.target().server());
    }
    return servers.size();
  }

  private static Optional<InetSocketAddress> mostCommon(List<StunSweep.Answer> answers) {
    Map<InetSocketAddress, Integer> count = new LinkedHashMap<>();
    for (StunSweep.Answer a : answers) {
      count.merge(a.mapped(), 1, Integer::sum);
    }
    return count.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey);
  }

  /** Every STUN server of the regions, of one address family; names are resolved here (bounded by DNS). */
  static List<StunSweep.Target> targets(List<DerpRegion> regions, Class<? extends InetAddress> family) {
    List<StunSweep.Target> out = new ArrayList<>();
    Set<InetSocketAddress> seen = new HashSet<>();
    for (DerpRegion r : regions) {
      for (DerpNode n : r.nodes()) {
        OptionalInt port = n.effectiveStunPort();
        if (port.isEmpty()) {
          continue;
        }
        for (InetAddress a : addresses(n, family)) {
          InetSocketAddress s = new InetSocketAddress(a, port.getAsInt());
          if (out.size() < MAX_STUN_TARGETS && seen.add(s)) {
            out.add(new StunSweep.Target(s, r.regionId()));
          }
        }
      }
    }
    return out;
  }

  private static List<InetAddress> addresses(DerpNode n, Class<? extends InetAddress> family) {
    String literal = family == Inet4Address.class ? n.ipv4() : n.ipv6();
    Optional<InetAddress> ip = IpLiteral.parse(literal);
    if (ip.isPresent()) {
      return family.isInstance(ip.get()) ? List.of(ip.get()) : List.of();
    }
    if (!literal.isEmpty() || n.hostName().isEmpty()) {
      return List.of(); // "none", or garbage: that family is off
    }
    try {
      List<InetAddress> out = new ArrayList<>();
      for (InetAddress a : InetAddress.getAllByName(n.hostName())) {
        if (family.isInstance(a)) {
          out.add(a);
        }
      }
      return out;
    } catch (IOException e) {
      return List.of();
    }
  }

  /** IPv6 only when we have a global IPv6 address and some node has one. */
  private static List<StunSweep.Answer> sweepIpv6(List<DerpRegion> regions, Duration budget, Consumer<String> log) {
    if (!hasGlobalIpv6()) {
      return List.of();
    }
    List<StunSweep.Target> t = targets(regions, Inet6Address.class);
    if (t.isEmpty()) {
      return List.of();
    }
    try (DatagramSocket v6 = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("::"), 0))) {
      List<StunSweep.Answer> answers = StunSweep.run(v6, t, budget);
      log.accept("stun ipv6: " + answers.size() + " answers");
      return answers;
    } catch (IOException e) {
      log.accept("stun ipv6: " + e.getMessage());
      return List.of();
    }
  }

  private static boolean hasGlobalIpv6() {
    try {
      for (var nif : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
        if (!nif.isUp() || nif.isLoopback()) {
          continue;
        }
        for (InetAddress a : java.util.Collections.list(nif.getInetAddresses())) {
          if (a instanceof Inet6Address && !a.isLinkLocalAddress() && !a.isSiteLocalAddress()
              && !a.isLoopbackAddress() && (a.getAddress()[0] & 0xfe) != 0xfc) {
            return true;
          }
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  /** Without UDP: the time a TCP connection to each region's first DERP node takes. */
  private static Map<Integer, Duration> tcpLatency(List<DerpRegion> regions, ExecutorService pool, long deadline,
      Consumer<String> log) {
    Map<Integer, Future<Optional<Duration>>> pending = new LinkedHashMap<>();
    long left = Math.max(1, Math.min(TCP_CAP.toNanos(), deadline - System.nanoTime()));
    for (DerpRegion r : regions) {
      if (r.derpNodes().isEmpty() || pending.size() >= MAX_TCP_PROBES) {
        continue;
      }
      DerpNode n = r.derpNodes().get(0);
      pending.put(r.regionId(), pool.submit(() -> connectTime(n, Duration.ofNanos(left))));
    }
    Map<Integer, Duration> out = new HashMap<>();
    long until = System.nanoTime() + left + TimeUnit.MILLISECONDS.toNanos(100);
    pending.forEach((id, f) -> get(f, until, Optional.<Duration>empty()).ifPresent(d -> out.put(id, d)));
    log.accept("tcp latency: " + out.size() + " of " + pending.size() + " regions answered");
    return out;
  }

  private static Optional<Duration> connectTime(DerpNode n, Duration budget) {
    List<InetSocketAddress> addrs;
    try {
      addrs = n.dialAddresses(false);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
    for (InetSocketAddress a : addrs) {
      if (a.isUnresolved()) {
        a = new InetSocketAddress(a.getHostString(), a.getPort());
        if (a.isUnresolved()) {
          continue;
        }
      }
      try (Socket s = new Socket()) {
        long start = System.nanoTime();
        s.connect(a, (int) Math.max(1, budget.toMillis()));
        return Optional.of(Duration.ofNanos(System.nanoTime() - start));
      } catch (IOException e) {
        // the next address
      }
    }
    return Optional.empty();
  }

  private static List<RegionLatency> ordered(List<DerpRegion> regions, Map<Integer, Duration> latency, String via) {
    List<RegionLatency> out = new ArrayList<>();
    for (DerpRegion r : regions) {
      if (r.derpNodes().isEmpty()) {
        continue;
      }
      Optional<Duration> l = Optional.ofNullable(latency.get(r.regionId()));
      out.add(new RegionLatency(r.regionId(), r.regionCode(), r.regionName(), l, l.isPresent() ? via : ""));
    }
    out.sort(Comparator.comparing((RegionLatency r) -> r.latency().orElse(Duration.ofDays(1)))
        .thenComparingInt(RegionLatency::id));
    return out;
  }

  private static Optional<Integer> fastest(Map<Integer, Duration> latency) {
    return latency.entrySet().stream()
        .min(Map.Entry.<Integer, Duration>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
        .map(Map.Entry::getKey);
  }

  private static <T> T get(Future<T> f, long deadlineNanos, T fallback) {
    try {
      return f.get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fallback;
    } catch (Exception e) {
      return fallback;
    }
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
