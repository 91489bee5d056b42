package dev.derphole.transport.portmap;

import static dev.derphole.transport.portmap.FakePortControlServer.EXTERNAL;
import static dev.derphole.transport.portmap.MapperFixture.LOCAL_PORT;
import static dev.derphole.transport.portmap.MapperFixture.LOOPBACK;
import static dev.derphole.transport.portmap.MapperFixture.millisSince;
import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.transport.portmap.FakePortControlServer.Speaks;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** PCP against a fake gateway: the MAP exchange, the nonce, renewals, the delete, the fallback. */
@Timeout(30)
class PortMapperPcpTest {
  private final MapperFixture fixture = new MapperFixture();

  PortMapperPcpTest() throws Exception {}

  @AfterEach
  void noLeaks() throws Exception {
    fixture.close();
  }

  @Test
  void mapsRenewsAtHalfTheLifetimeWithTheSameNonceAndDeletesOnClose() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.PCP_AND_NAT_PMP)) {
      gateway.maxLifetimeSeconds = 2;
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      long start = System.nanoTime();
      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);

      assertThat(mapping).contains(new Mapping(Mapping.PCP, new InetSocketAddress(EXTERNAL, LOCAL_PORT),
          Duration.ofSeconds(2)));
      assertThat(fixture.log).contains("portmap=pcp external=203.0.113.7:41641 lifetime=2s");
      PcpMapRequest first = gateway.next(PcpMapRequest.class);
      assertThat(first.clientAddress()).as("our source address toward the gateway").isEqualTo(LOOPBACK);
      assertThat(first.protocol()).isEqualTo(Pcp.PROTOCOL_UDP);
      assertThat(first.internalPort()).isEqualTo(LOCAL_PORT);
      assertThat(first.suggestedExternalPort()).isEqualTo(LOCAL_PORT);
      assertThat(first.suggestedExternalAddress()).isEqualTo(Pcp.NO_ADDRESS);
      assertThat(first.lifetimeSeconds()).isEqualTo(7200);

      PcpMapRequest renewal = gateway.next(PcpMapRequest.class);
      assertThat(millisSince(start)).as("renewed at half the 2 s lifetime").isBetween(900L, 2000L);
      assertThat(renewal.nonce()).isEqualTo(first.nonce());
      assertThat(renewal.suggestedExternalPort()).isEqualTo(LOCAL_PORT);
      assertThat(renewal.suggestedExternalAddress()).isEqualTo(EXTERNAL);
      assertThat(renewal.lifetimeSeconds()).isEqualTo(7200);

      mapper.close();

      PcpMapRequest delete = gateway.next(PcpMapRequest.class);
      assertThat(delete.lifetimeSeconds()).isZero();
      assertThat(delete.nonce()).isEqualTo(first.nonce());
      assertThat(mapper.current()).isEmpty();
      assertThat(gateway.requests).as("no NAT-PMP asked of a PCP gateway").isEmpty();
    }
  }

  @Test
  void answersForAnotherNonceAndGarbageAreIgnored() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.PCP_AND_NAT_PMP)) {
      gateway.replies = (request, normal) -> {
        PcpMapResponse real = PcpMapResponse.decode(ByteBuffer.wrap(normal)).orElseThrow();
        byte[] otherNonce = new PcpMapResponse(real.resultCode(), real.lifetimeSeconds(), real.epochSeconds(),
            PcpNonce.random(), real.protocol(), real.internalPort(), 4444, real.externalAddress()).encode();
        return List.of(new byte[] {2, (byte) 0x81, 0}, Arrays.copyOf(normal, 48), otherNonce, normal);
      };
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);

      assertThat(mapping.map(Mapping::external)).contains(new InetSocketAddress(EXTERNAL, LOCAL_PORT));
    }
  }

  @Test
  void aGatewayAnsweringInNatPmpGetsNatPmp() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.NAT_PMP_ONLY)) {
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);

      assertThat(mapping.map(Mapping::protocol)).contains(Mapping.NAT_PMP);
      gateway.next(PcpMapRequest.class);
      gateway.next(NatPmpAddressRequest.class);
      gateway.next(NatPmpMapRequest.class);
      assertThat(fixture.logged("answered in NAT-PMP (version 0, unsupported version (1)); trying NAT-PMP")).isTrue();
    }
  }

  @Test
  void aGatewayIgnoringPcpGetsNatPmpAfterHalfTheBudget() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.PCP_AND_NAT_PMP)) {
      gateway.replies = (request, normal) -> request instanceof PcpMapRequest ? List.of() : List.of(normal);
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      long start = System.nanoTime();
      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(1)).get(5, TimeUnit.SECONDS);

      assertThat(mapping.map(Mapping::protocol)).contains(Mapping.NAT_PMP);
      assertThat(millisSince(start)).isBetween(450L, 1000L);
      assertThat(fixture.logged("PCP MAP request to")).isTrue();
    }
  }

  @Test
  void aRefusalIsFinalAndNamed() throws Exception {
    try (FakePortControlServer gateway = new FakePortControlServer(Speaks.PCP_AND_NAT_PMP)) {
      gateway.replies = (request, normal) ->
          List.of(new PcpMapResponse(Pcp.NOT_AUTHORIZED, 60, 0, null, 0, 0, 0, Pcp.NO_ADDRESS).encode());
      PortMapper mapper = fixture.mapper(gateway.port(), fixture.silentPort());

      Optional<Mapping> mapping = mapper.map(Duration.ofMillis(600)).get(5, TimeUnit.SECONDS);

      assertThat(mapping).isEmpty();
      assertThat(fixture.logged("refused to map UDP port 41641: NOT_AUTHORIZED (2)")).isTrue();
      gateway.next(PcpMapRequest.class);
      assertThat(gateway.requests).as("NAT-PMP not tried after a PCP refusal").isEmpty();
    }
  }
}
