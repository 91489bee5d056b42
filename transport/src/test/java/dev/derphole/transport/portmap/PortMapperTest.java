package dev.derphole.transport.portmap;

import static dev.derphole.transport.portmap.FakePortControlServer.EXTERNAL;
import static dev.derphole.transport.portmap.MapperFixture.LOCAL_PORT;
import static dev.derphole.transport.portmap.MapperFixture.millisSince;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.transport.portmap.FakePortControlServer.Speaks;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The PortMapper's own behaviour: budgets, sharing, listeners, closing. */
@Timeout(30)
class PortMapperTest {
  private final MapperFixture fixture = new MapperFixture();

  PortMapperTest() throws Exception {}

  @AfterEach
  void noLeaks() throws Exception {
    fixture.close();
  }

  @Test
  void noGatewayMapsNothingAtOnce() throws Exception {
    PortMapper mapper = new PortMapper(Optional::empty, LOCAL_PORT, fixture.executor, fixture::record,
        GatewayPorts.STANDARD);
    try {
      CompletableFuture<Optional<Mapping>> result = mapper.map(Duration.ofSeconds(10));

      assertThat(result).isCompletedWithValue(Optional.empty());
      assertThat(fixture.log).containsExactly("portmap=none: no default gateway");
    } finally {
      mapper.close();
    }
  }

  @Test
  void aSilentGatewayMapsNothingWithinTheBudget() throws Exception {
    PortMapper mapper = fixture.mapper(fixture.silentPort(), fixture.silentPort());

    long start = System.nanoTime();
    Optional<Mapping> mapping = mapper.map(Duration.ofMillis(700)).get(5, TimeUnit.SECONDS);

    assertThat(mapping).isEmpty();
    assertThat(millisSince(start)).isBetween(650L, 1500L);
    // The budget and the paths' own deadlines end together; either may report it.
    assertThat(fixture.log).anyMatch(line -> line.startsWith("portmap=none: no "));
    assertThat(fixture.logged("PCP MAP request to 127.0.0.1:" + fixture.silentPort() + ": no answer after")).isTrue();
    assertThat(fixture.log.get(0)).isEqualTo("portmap=probing gateway=127.0.0.1 services=pcp,nat-pmp,upnp");
  }

  @Test
  void aLiveMappingIsAnsweredWithoutAskingAgain() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.PCP_AND_NAT_PMP)) {
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());
      Optional<Mapping> first = mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);
      gateway.next(PcpMapRequest.class);

      CompletableFuture<Optional<Mapping>> second = mapper.map(Duration.ofSeconds(2));

      assertThat(second).isCompletedWithValue(first);
      assertThat(mapper.current()).isEqualTo(first);
      assertThat(gateway.requests).isEmpty();
    }
  }

  @Test
  void concurrentCallersShareOneProbe() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.PCP_AND_NAT_PMP)) {
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      CompletableFuture<Optional<Mapping>> a = mapper.map(Duration.ofSeconds(2));
      CompletableFuture<Optional<Mapping>> b = mapper.map(Duration.ofSeconds(2));

      assertThat(a.get(5, TimeUnit.SECONDS)).isPresent().isEqualTo(b.get(5, TimeUnit.SECONDS));
      gateway.next(PcpMapRequest.class);
      assertThat(gateway.requests).isEmpty();
    }
  }

  @Test
  void listenersHearNewAndMovedMappingsAndAFailingOneHarmsNothing() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.PCP_AND_NAT_PMP)) {
      gateway.maxLifetimeSeconds = 2;
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());
      List<Mapping> heard = new CopyOnWriteArrayList<>();
      CompletableFuture<Mapping> moved = new CompletableFuture<>();
      mapper.onChange(m -> {
        throw new IllegalStateException("a careless listener");
      });
      mapper.onChange(m -> {
        heard.add(m);
        if (m.external().getPort() == 50000) {
          moved.complete(m);
        }
      });

      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);
      assertThat(heard).containsExactly(mapping.orElseThrow());
      gateway.assignedPort = 50000; // the gateway moves us on the renewal

      assertThat(moved.get(5, TimeUnit.SECONDS).external()).isEqualTo(new InetSocketAddress(EXTERNAL, 50000));
      assertThat(heard).hasSize(2);
      assertThat(fixture.logged("portmap: a mapping listener failed: java.lang.IllegalStateException")).isTrue();
    }
  }

  @Test
  void closeAbortsAProbeAtOnceAndLeavesNothingRunning() throws Exception {
    PortMapper mapper = fixture.mapper(fixture.silentPort(), fixture.silentPort());
    CompletableFuture<Optional<Mapping>> result = mapper.map(Duration.ofSeconds(30));

    long start = System.nanoTime();
    mapper.close();

    assertThat(result.get(2, TimeUnit.SECONDS)).isEmpty();
    assertThat(millisSince(start)).isLessThan(1500L);
    assertThat(mapper.map(Duration.ofSeconds(1))).isCompletedWithValue(Optional.empty());
    assertThat(mapper.current()).isEmpty();
    // fixture.close() then proves every exchange ended and the scheduler thread is gone.
  }

  @Test
  void closeIsIdempotentAndDeletesOnce() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.PCP_AND_NAT_PMP)) {
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());
      assertThat(mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS)).isPresent();
      gateway.next(PcpMapRequest.class);

      mapper.close();
      mapper.close();

      assertThat(gateway.next(PcpMapRequest.class).lifetimeSeconds()).isZero();
      assertThat(gateway.requests).isEmpty();
    }
  }

  @Test
  void badArgumentsAreRefusedByName() {
    assertThatThrownBy(() -> new PortMapper(null, 0, fixture.executor, fixture::record))
        .hasMessage("localPort must be 1..65535, got 0");
    PortMapper mapper = fixture.mapper(fixture.silentPort(), fixture.silentPort());
    assertThatThrownBy(() -> mapper.map(Duration.ofSeconds(-1)))
        .hasMessage("budget must not be negative, got PT-1S");
  }
}
