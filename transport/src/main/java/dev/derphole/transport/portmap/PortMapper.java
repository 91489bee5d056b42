package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Asks the NAT gateway to forward an external UDP port to our session's UDP port, keeps the
 * mapping alive, and deletes it on {@link #close()}.
 *
 * <p>A probe runs two paths at once on the caller's executor: PCP, falling back to NAT-PMP when
 * the gateway answers in NAT-PMP or PCP stays silent for half the budget ({@link PcpClient},
 * {@link NatPmpClient}, both on port 5351); and UPnP IGD ({@link UpnpClient}). The first mapping
 * wins; the other path is stopped, and its mapping deleted should it succeed anyway. PCP and NAT-PMP need one
 * round trip and UPnP at least four, so on a gateway that speaks several, PCP or NAT-PMP wins.
 *
 * <pre>
 *   IDLE ──map()──▶ PROBING ──a path maps──▶ MAPPED ──renewal at ½ lifetime──┐
 *    ▲ ▲               │                      │  ▲                          │
 *    │ └─ all fail, or ┘                      │  └──────────────────────────┘
 *    │    budget spent                        │
 *    └──── renewals failed until the lifetime ended (onLoss)
 *   any ──close()──▶ CLOSED: the mapping deleted (best effort, ≤ 1 s), exchanges aborted
 * </pre>
 *
 * <p>Failures are soft: nothing here throws to the caller for a network reason; what went wrong
 * goes to the log, in the upstream's verbose style ({@code portmap=probing},
 * {@code portmap=pcp external=IP:PORT lifetime=Ns}, {@code portmap=none}). A mapping that arrives
 * after the budget is still kept and reported through {@link #onChange}.
 *
 * <p>Thread-safe. The executor runs the blocking exchanges (each bounded by its budget), so it
 * must hand tasks to other threads, two at a time during a probe: a cached or fixed pool of two
 * or more threads, not an event loop. One daemon thread of our own keeps time for renewals; it
 * ends on {@link #close()}.
 */
public final class PortMapper implements AutoCloseable {
  /** How long {@link #close()} waits for the gateway to confirm the delete. */
  static final Duration RELEASE_BUDGET = Duration.ofSeconds(1);
  /** How long one renewal may take. */
  static final Duration RENEW_BUDGET = Duration.ofSeconds(3);
  /** The soonest a failed renewal is tried again. */
  static final Duration RENEW_RETRY_FLOOR = Duration.ofSeconds(1);

  private enum State { IDLE, PROBING, MAPPED, CLOSED }

  /** One run of {@link #map}: its deadline, its answer and the paths still running. */
  private static final class Probe {
    final InetAddress gateway;
    final Deadline deadline;
    final CompletableFuture<Optional<Mapping>> answer = new CompletableFuture<>();
    int pending;
    ScheduledFuture<?> timeout;
    boolean decided;

    Probe(InetAddress gateway, Deadline deadline, int paths) {
      this.gateway = gateway;
      this.deadline = deadline;
      this.pending = paths;
    }
  }

  private final Supplier<Optional<InetAddress>> gatewaySource;
  private final int localPort;
  private final Executor executor;
  private final Consumer<String> log;
  private final GatewayPorts ports;
  /** Non-null for an IPv6 pinhole ({@link PinholeMapper}): PCP only, for this internal address. */
  private final InetAddress pinholeSource;
  private final InFlight inFlight = new InFlight();
  private final ScheduledThreadPoolExecutor scheduler;
  private volatile Thread schedulerThread;
  private final List<Consumer<Mapping>> changeListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<Mapping>> lossListeners = new CopyOnWriteArrayList<>();

  // Guarded by this.
  private State state = State.IDLE;
  private Probe probe;
  private Lease lease;
  private long expiresAtNanos;
  private ScheduledFuture<?> timer;
  private Deadline renewal;

  /**
   * @param gateway the NAT gateway; null to find the default gateway in {@code /proc/net/route}
   *     at each probe
   * @param localPort the session's UDP port, which the mapping forwards to
   * @param executor runs the blocking exchanges; see the class comment
   * @param log receives one line per event, from any thread
   */
  public PortMapper(InetAddress gateway, int localPort, Executor executor, Consumer<String> log) {
    this(gateway == null ? PortMapper::defaultGateway : () -> Optional.of(gateway), localPort, executor, log,
        GatewayPorts.STANDARD);
  }

  /** For tests: the gateway and its ports injected, e.g. fake servers on loopback. */
  PortMapper(Supplier<Optional<InetAddress>> gatewaySource, int localPort, Executor executor, Consumer<String> log,
      GatewayPorts ports) {
    this(gatewaySource, localPort, executor, log, ports, null);
  }

  /**
   * @param pinholeSource null for a NAT mapping (PCP, NAT-PMP, UPnP); an IPv6 address of ours for
   *     a firewall pinhole on it, asked by PCP alone (NAT-PMP and UPnP IGDv1 have no IPv6)
   */
  PortMapper(Supplier<Optional<InetAddress>> gatewaySource, int localPort, Executor executor, Consumer<String> log,
      GatewayPorts ports, InetAddress pinholeSource) {
    this.pinholeSource = pinholeSource;
    this.gatewaySource = Objects.requireNonNull(gatewaySource, "gatewaySource");
    this.executor = Objects.requireNonNull(executor, "executor");
    this.log = Objects.requireNonNull(log, "log");
    this.ports = Objects.requireNonNull(ports, "ports");
    if (localPort < 1 || localPort > 0xffff) {
      throw new IllegalArgumentException("localPort must be 1..65535, got " + localPort);
    }
    this.localPort = localPort;
    this.scheduler = new ScheduledThreadPoolExecutor(1, task -> {
      Thread thread = new Thread(task, "derphole-portmap-" + localPort);
      thread.setDaemon(true);
      schedulerThread = thread;
      return thread;
    });
    scheduler.setRemoveOnCancelPolicy(true);
    scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  /** The gateway of the default IPv4 route, from {@code /proc/net/route}; empty if none (or not Linux). */
  public static Optional<InetAddress> defaultGateway() {
    return RouteTable.defaultGateway();
  }

  /**
   * The mapping, once there is one. Returns the live mapping at once when there is one, joins a
   * probe under way, or starts one: PCP then NAT-PMP, and UPnP IGD, in parallel.
   *
   * @param budget how long to try; the future completes by then
   * @return completes with the mapping, or empty when none works within the budget, there is no
   *     gateway, or this is closed; never exceptionally
   */
  public CompletableFuture<Optional<Mapping>> map(Duration budget) {
    Objects.requireNonNull(budget, "budget");
    if (budget.isNegative()) {
      throw new IllegalArgumentException("budget must not be negative, got " + budget);
    }
    Probe started = null;
    synchronized (this) {
      switch (state) {
        case CLOSED:
          return CompletableFuture.completedFuture(Optional.empty());
        case MAPPED:
          return CompletableFuture.completedFuture(Optional.of(lease.mapping()));
        case PROBING:
          CompletableFuture<Optional<Mapping>> joined = probe.answer.copy();
          scheduler.schedule(() -> joined.complete(Optional.empty()), budget.toNanos(), TimeUnit.NANOSECONDS);
          return joined;
        default:
          break;
      }
      Optional<InetAddress> gateway = gatewaySource.get();
      if (gateway.isPresent()) {
        Probe p = new Probe(gateway.get(), Deadline.after(budget), pinholeSource == null ? 2 : 1);
        p.timeout = scheduler.schedule(() -> timeUp(p), budget.toNanos(), TimeUnit.NANOSECONDS);
        probe = p;
        state = State.PROBING;
        started = p;
      }
    }
    if (started == null) {
      log(pinholeSource == null ? "portmap=none: no default gateway" : "portmap=none: no IPv6 default gateway");
      return CompletableFuture.completedFuture(Optional.empty());
    }
    Probe run = started;
    if (pinholeSource != null) {
      log("portmap=probing gateway=" + IpLiteral.format(run.gateway) + " services=pcp (IPv6 pinhole for "
          + IpLiteral.format(pinholeSource) + ")");
      startPath(run, "pcp", () -> pinhole(run));
      return run.answer.copy();
    }
    log("portmap=probing gateway=" + run.gateway.getHostAddress() + " services=pcp,nat-pmp,upnp");
    startPath(run, "pcp/nat-pmp", () -> portControl(run));
    startPath(run, "upnp", () -> upnp(run));
    return run.answer.copy();
  }

  /** The live mapping; empty before one is made, after it expired, and after {@link #close()}. */
  public synchronized Optional<Mapping> current() {
    return state == State.MAPPED ? Optional.of(lease.mapping()) : Optional.empty();
  }

  /**
   * Calls {@code listener} with each new mapping and each renewal that changes the external
   * address or port (not a mere lifetime change), on an executor thread.
   */
  public void onChange(Consumer<Mapping> listener) {
    changeListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Calls {@code listener} with the mapping when it expires because renewals kept failing, on an
   * executor thread. Peers should forget its address; a later {@link #map} tries afresh.
   */
  public void onLoss(Consumer<Mapping> listener) {
    lossListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Stops renewing, aborts exchanges under way and deletes the mapping (best effort, waiting at
   * most {@link #RELEASE_BUDGET} for the gateway). Idempotent.
   */
  @Override
  public void close() {
    Probe running;
    Lease held;
    Deadline renewing;
    synchronized (this) {
      if (state == State.CLOSED) {
        return;
      }
      running = probe;
      held = state == State.MAPPED ? lease : null;
      renewing = renewal;
      state = State.CLOSED;
      probe = null;
      lease = null;
      renewal = null;
      if (timer != null) {
        timer.cancel(false);
      }
    }
    if (running != null) {
      running.deadline.cancel();
    }
    if (renewing != null) {
      renewing.cancel();
    }
    inFlight.abortAll();
    if (held != null) {
      release(held, "closing");
    }
    if (running != null) {
      running.answer.complete(Optional.empty());
    }
    scheduler.shutdownNow();
    if (Thread.currentThread() != schedulerThread) {
      try {
        scheduler.awaitTermination(RELEASE_BUDGET.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- probing

  private void startPath(Probe p, String name, Supplier<Optional<Lease>> path) {
    Runnable task = () -> {
      Optional<Lease> outcome;
      try {
        outcome = path.get();
      } catch (RuntimeException bug) {
        note(p, name + ": failed: " + bug);
        outcome = Optional.empty();
      }
      settle(p, outcome);
    };
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      note(p, name + ": the executor refused the probe: " + e.getMessage());
      settle(p, Optional.empty());
    }
  }

  /** PCP, then NAT-PMP if the gateway answered in NAT-PMP or not at all. */
  private Optional<Lease> portControl(Probe p) {
    InetSocketAddress server = new InetSocketAddress(p.gateway, ports.portControl());
    // PCP may use half the budget, so that a gateway that ignores it leaves NAT-PMP the rest.
    Deadline pcpDeadline = p.deadline.atMost(Duration.ofNanos(p.deadline.remainingNanos() / 2));
    try {
      return Optional.of(new PcpClient(server, localPort, inFlight).map(pcpDeadline));
    } catch (PcpUnsupportedException | SocketTimeoutException e) {
      note(p, "pcp: " + e.getMessage() + "; trying NAT-PMP");
    } catch (IOException e) {
      note(p, "pcp: " + e.getMessage());
      return Optional.empty();
    }
    try {
      return Optional.of(new NatPmpClient(server, localPort, inFlight).map(p.deadline));
    } catch (IOException e) {
      note(p, "nat-pmp: " + e.getMessage());
      return Optional.empty();
    }
  }

  /** PCP alone, the whole budget, from our IPv6 address. */
  private Optional<Lease> pinhole(Probe p) {
    InetSocketAddress server = new InetSocketAddress(p.gateway, ports.portControl());
    try {
      return Optional.of(new PcpClient(server, localPort, inFlight, pinholeSource).map(p.deadline));
    } catch (IOException e) {
      note(p, "pcp: " + e.getMessage());
      return Optional.empty();
    }
  }

  private Optional<Lease> upnp(Probe p) {
    try {
      return Optional.of(new UpnpClient(p.gateway, ports.ssdpTargets(p.gateway), localPort, inFlight).map(p.deadline));
    } catch (IOException e) {
      note(p, "upnp: " + e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * A path ended. A mapping is adopted unless one is held already (or this is closed), even after
   * its probe timed out; otherwise it is deleted.
   */
  private void settle(Probe p, Optional<Lease> outcome) {
    Lease orphan = null;
    Lease adopted = null;
    Probe resolved = null;
    boolean nothing = false;
    synchronized (this) {
      p.pending--;
      if (outcome.isPresent()) {
        if (state == State.IDLE || state == State.PROBING) {
          resolved = probe;
          if (resolved != null) {
            resolved.decided = true;
            resolved.deadline.cancel();
            resolved.timeout.cancel(false);
          }
          probe = null;
          adopted = outcome.get();
          adopt(adopted);
        } else {
          orphan = outcome.get();
        }
      } else if (p.pending == 0 && probe == p) {
        probe = null;
        state = State.IDLE;
        p.decided = true;
        p.timeout.cancel(false);
        nothing = true;
      }
    }
    if (orphan != null) {
      release(orphan, "another mapping won");
    }
    if (adopted != null) {
      log("portmap=" + adopted.mapping().describe());
      tell(changeListeners, adopted.mapping(), "mapping");
    }
    if (resolved != null) {
      resolved.answer.complete(Optional.of(adopted.mapping()));
    }
    if (nothing) {
      log("portmap=none: no gateway protocol worked");
      p.answer.complete(Optional.empty());
    }
  }

  private void timeUp(Probe p) {
    synchronized (this) {
      if (probe != p) {
        return;
      }
      probe = null;
      state = State.IDLE;
    }
    p.deadline.cancel();
    log("portmap=none: no mapping within the budget");
    p.answer.complete(Optional.empty());
  }

  /** Logs a path's failure, unless the probe was decided or this closed: then it is just noise. */
  private void note(Probe p, String message) {
    boolean quiet;
    synchronized (this) {
      quiet = p.decided || state == State.CLOSED;
    }
    if (!quiet) {
      log("portmap: " + message);
    }
  }

  // ---- keeping the mapping

  /** Under the lock. */
  private void adopt(Lease next) {
    lease = next;
    state = State.MAPPED;
    Duration lifetime = next.mapping().lifetime();
    expiresAtNanos = System.nanoTime() + lifetime.toNanos();
    timer = scheduler.schedule(() -> dispatch(this::renew), lifetime.toNanos() / 2, TimeUnit.NANOSECONDS);
  }

  private void renew() {
    Lease current;
    Deadline deadline;
    synchronized (this) {
      if (state != State.MAPPED) {
        return;
      }
      current = lease;
      long left = Math.max(1, expiresAtNanos - System.nanoTime());
      deadline = Deadline.after(Duration.ofNanos(Math.min(RENEW_BUDGET.toNanos(), left)));
      renewal = deadline;
    }
    Lease next;
    try {
      next = current.renew(deadline);
    } catch (IOException | RuntimeException e) {
      renewalFailed(current, e instanceof IOException ? e.getMessage() : e.toString());
      return;
    }
    boolean adopted;
    synchronized (this) {
      adopted = state == State.MAPPED && lease == current;
      if (adopted) {
        renewal = null;
        adopt(next);
      }
    }
    if (!adopted) {
      // Closed meanwhile, and close() deleted the mapping; a moved one is ours to delete too.
      if (!next.mapping().sameForwarding(current.mapping())) {
        release(next, "closed while renewing");
      }
      return;
    }
    log("portmap: renewed " + next.mapping().describe());
    if (!next.mapping().sameForwarding(current.mapping())) {
      tell(changeListeners, next.mapping(), "mapping");
    }
  }

  /** Keeps the mapping until its lifetime ends, retrying at half the time left (at least 1 s). */
  private void renewalFailed(Lease current, String why) {
    String plan;
    synchronized (this) {
      if (state != State.MAPPED || lease != current) {
        return;
      }
      renewal = null;
      long left = Math.max(0, expiresAtNanos - System.nanoTime());
      long retry = Math.max(RENEW_RETRY_FLOOR.toNanos(), left / 2);
      if (retry < left) {
        timer = scheduler.schedule(() -> dispatch(this::renew), retry, TimeUnit.NANOSECONDS);
        plan = "retrying in " + TimeUnit.NANOSECONDS.toSeconds(retry) + " s";
      } else {
        timer = scheduler.schedule(() -> expire(current), left, TimeUnit.NANOSECONDS);
        plan = "it expires in " + TimeUnit.NANOSECONDS.toMillis(left) + " ms";
      }
    }
    log("portmap: renewing the " + current.mapping().protocol() + " mapping failed: " + why
        + "; keeping it, " + plan);
  }

  private void expire(Lease expired) {
    synchronized (this) {
      if (state != State.MAPPED || lease != expired) {
        return;
      }
      state = State.IDLE;
      lease = null;
      timer = null;
    }
    log("portmap=none: the " + expired.mapping().protocol() + " mapping expired without a renewal");
    dispatch(() -> tell(lossListeners, expired.mapping(), "loss"));
  }

  // ---- plumbing

  /** Runs {@code task} on the executor; if it refuses, here (the scheduler's thread). */
  private void dispatch(Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  private void release(Lease held, String why) {
    Mapping mapping = held.mapping();
    String name = mapping.protocol() + " mapping " + IpLiteral.format(mapping.external());
    try {
      held.release(Deadline.after(RELEASE_BUDGET));
      log("portmap: deleted the " + name + " (" + why + ")");
    } catch (IOException | RuntimeException e) {
      log("portmap: could not delete the " + name + " (" + why + "): " + e.getMessage()
          + "; the gateway drops it when its lifetime ends");
    }
  }

  /** Calls each listener; one that throws is logged and does not stop the others. */
  private void tell(List<Consumer<Mapping>> listeners, Mapping mapping, String kind) {
    for (Consumer<Mapping> listener : listeners) {
      try {
        listener.accept(mapping);
      } catch (RuntimeException e) {
        log("portmap: a " + kind + " listener failed: " + e);
      }
    }
  }

  private void log(String line) {
    try {
      log.accept(line);
    } catch (RuntimeException e) {
      // A failing logger has nowhere to report to; the port mapping must go on regardless.
    }
  }
}
