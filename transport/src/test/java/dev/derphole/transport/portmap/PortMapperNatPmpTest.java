package dev.derphole.transport.portmap;

import static dev.derphole.transport.portmap.FakePortControlServer.EXTERNAL;
import static dev.derphole.transport.portmap.MapperFixture.LOCAL_PORT;
import static dev.derphole.transport.portmap.MapperFixture.millisSince;
import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.transport.portmap.FakePortControlServer.Speaks;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** NAT-PMP against a fake gateway that speaks nothing else. */
@Timeout(30)
class PortMapperNatPmpTest {
  private final MapperFixture fixture = new MapperFixture();

  PortMapperNatPmpTest() throws Exception {}

  @AfterEach
  void noLeaks() throws Exception {
    fixture.close();
  }

  @Test
  void mapsRenewsTheMappedPortAndDeletesOnClose() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.NAT_PMP_ONLY)) {
      gateway.maxLifetimeSeconds = 2;
      gateway.assignedPort = 50000;
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);

      assertThat(mapping).contains(new Mapping(Mapping.NAT_PMP, new InetSocketAddress(EXTERNAL, 50000),
          Duration.ofSeconds(2)));
      gateway.next(PcpMapRequest.class);
      gateway.next(NatPmpAddressRequest.class);
      assertThat(gateway.next(NatPmpMapRequest.class)).isEqualTo(new NatPmpMapRequest(LOCAL_PORT, LOCAL_PORT, 7200));

      gateway.next(NatPmpAddressRequest.class);
      assertThat(gateway.next(NatPmpMapRequest.class)).as("a renewal suggests the port we hold")
          .isEqualTo(new NatPmpMapRequest(LOCAL_PORT, 50000, 7200));

      mapper.close();

      assertThat(gateway.next(NatPmpMapRequest.class)).as("delete: lifetime 0, the mapped port for miniupnpd")
          .isEqualTo(new NatPmpMapRequest(LOCAL_PORT, 50000, 0));
      assertThat(fixture.logged("portmap: deleted the nat-pmp mapping")).isTrue();
    }
  }

  @ParameterizedTest
  @CsvSource({
      "2, not authorized/refused (2)",
      "3, network failure (the gateway has no external address yet?) (3)",
      "4, out of resources (4)"})
  void mapErrorsMapNothingAndAreNamed(int code, String name) throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.NAT_PMP_ONLY)) {
      gateway.replies = (request, normal) -> request instanceof NatPmpMapRequest
          ? List.of(new NatPmpMapResponse(code, 1, 0, 0, 0).encode())
          : List.of(normal);
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      Optional<Mapping> mapping = mapper.map(Duration.ofMillis(600)).get(5, TimeUnit.SECONDS);

      assertThat(mapping).isEmpty();
      assertThat(fixture.logged("refused to map UDP port 41641: " + name)).isTrue();
    }
  }

  @Test
  void aGatewayWithoutExternalAddressMapsNothing() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.NAT_PMP_ONLY)) {
      gateway.replies = (request, normal) -> request instanceof NatPmpAddressRequest
          ? List.of(new NatPmpAddressResponse(0, 1, NatPmpAddressResponse.NONE).encode())
          : List.of(normal);
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      assertThat(mapper.map(Duration.ofMillis(600)).get(5, TimeUnit.SECONDS)).isEmpty();
      assertThat(fixture.logged("has no external address (0.0.0.0)")).isTrue();
      assertThat(gateway.requests).noneMatch(NatPmpMapRequest.class::isInstance);
    }
  }

  @Test
  void garbageTruncatedAndMismatchedAnswersAreIgnored() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.NAT_PMP_ONLY)) {
      gateway.replies = (request, normal) -> List.of(
          new byte[] {0},
          new byte[] {0, (byte) 0x81, 0},
          Arrays.copyOf(normal, normal.length - 1),
          new NatPmpMapResponse(0, 1, LOCAL_PORT + 1, 9999, 7200).encode(), // someone else's port
          new NatPmpAddressResponse(0, 1, EXTERNAL).encode(), //              a stale answer to op 0
          normal);
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);

      assertThat(mapping.map(Mapping::external)).contains(new InetSocketAddress(EXTERNAL, LOCAL_PORT));
    }
  }

  @Test
  void failedRenewalsKeepTheMappingUntilItsLifetimeEnds() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.NAT_PMP_ONLY)) {
      gateway.maxLifetimeSeconds = 2;
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());
      CompletableFuture<Mapping> lost = new CompletableFuture<>();
      mapper.onLoss(lost::complete);

      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);
      long mappedAt = System.nanoTime();
      assertThat(mapping).isPresent();
      gateway.replies = (request, normal) -> request instanceof NatPmpMapRequest
          ? List.of(new NatPmpMapResponse(NatPmp.OUT_OF_RESOURCES, 1, 0, 0, 0).encode())
          : List.of(normal);
      gateway.next(PcpMapRequest.class);
      gateway.next(NatPmpAddressRequest.class);
      gateway.next(NatPmpMapRequest.class);
      gateway.next(NatPmpAddressRequest.class);
      gateway.next(NatPmpMapRequest.class); // the renewal, refused

      assertThat(mapper.current()).as("kept while its lifetime lasts").isEqualTo(mapping);
      assertThat(lost.get(5, TimeUnit.SECONDS)).isEqualTo(mapping.get());

      assertThat(millisSince(mappedAt)).as("lost when the 2 s lifetime ended").isGreaterThanOrEqualTo(1900L);
      assertThat(mapper.current()).isEmpty();
      assertThat(fixture.logged("renewing the nat-pmp mapping failed")).isTrue();
      assertThat(fixture.logged("portmap=none: the nat-pmp mapping expired without a renewal")).isTrue();
    }
  }
}
