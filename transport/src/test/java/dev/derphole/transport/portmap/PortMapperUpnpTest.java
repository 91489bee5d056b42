package dev.derphole.transport.portmap;

import static dev.derphole.transport.portmap.MapperFixture.LOCAL_PORT;
import static dev.derphole.transport.portmap.MapperFixture.LOOPBACK;
import static dev.derphole.transport.portmap.MapperFixture.closedPort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * UPnP IGD against a fake device: SSDP, the description, SOAP. Nothing listens on the PCP port,
 * so the gateway's ICMP answer ends that path at once.
 */
@Timeout(30)
class PortMapperUpnpTest {
  private static final InetSocketAddress EXTERNAL = new InetSocketAddress(FakeIgd.EXTERNAL, LOCAL_PORT);
  private final MapperFixture fixture = new MapperFixture();

  PortMapperUpnpTest() throws Exception {}

  @AfterEach
  void noLeaks() throws Exception {
    fixture.close();
  }

  @Test
  void mapsWithTheIgdsArgumentsAndDeletesOnClose() throws Exception {
    try (FakeIgd igd = new FakeIgd()) {
      PortMapper mapper = fixture.mapper(closedPort(), igd.ssdpPort());

      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(3)).get(5, TimeUnit.SECONDS);

      assertThat(mapping).contains(new Mapping(Mapping.UPNP, EXTERNAL, Upnp.LEASE));
      assertThat(igd.searches).extracting(SsdpSearch::searchTarget).contains(
          "urn:schemas-upnp-org:device:InternetGatewayDevice:1", "urn:schemas-upnp-org:device:InternetGatewayDevice:2");
      igd.next(Upnp.GET_EXTERNAL_IP_ADDRESS);
      assertThat(igd.next(Upnp.ADD_PORT_MAPPING).arguments()).containsExactly(
          Map.entry("NewRemoteHost", ""),
          Map.entry("NewExternalPort", "41641"),
          Map.entry("NewProtocol", "UDP"),
          Map.entry("NewInternalPort", "41641"),
          Map.entry("NewInternalClient", "127.0.0.1"),
          Map.entry("NewEnabled", "1"),
          Map.entry("NewPortMappingDescription", "derphole"),
          Map.entry("NewLeaseDuration", "3600"));
      assertThat(fixture.logged("portmap: pcp: PCP MAP request to")).as("the ICMP answer is reported").isTrue();

      mapper.close();

      assertThat(igd.next(Upnp.DELETE_PORT_MAPPING).arguments()).containsExactly(
          Map.entry("NewRemoteHost", ""), Map.entry("NewExternalPort", "41641"), Map.entry("NewProtocol", "UDP"));
      assertThat(igd.mappings).isEmpty();
    }
  }

  @Test
  void aConflictMovesToARandomHighPort() throws Exception {
    try (FakeIgd igd = new FakeIgd()) {
      igd.taken.add(LOCAL_PORT);
      PortMapper mapper = fixture.mapper(closedPort(), igd.ssdpPort());

      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(3)).get(5, TimeUnit.SECONDS);

      assertThat(mapping).isPresent();
      int port = mapping.get().external().getPort();
      assertThat(port).isBetween(Upnp.RANDOM_PORT_LOW, Upnp.RANDOM_PORT_HIGH).isNotEqualTo(LOCAL_PORT);
      igd.next(Upnp.GET_EXTERNAL_IP_ADDRESS);
      assertThat(igd.next(Upnp.ADD_PORT_MAPPING).arguments()).containsEntry("NewExternalPort", "41641");
      assertThat(igd.next(Upnp.ADD_PORT_MAPPING).arguments())
          .containsEntry("NewExternalPort", Integer.toString(port))
          .containsEntry("NewInternalPort", "41641");
      assertThat(igd.mappings).containsOnlyKeys(port);
    }
  }

  @Test
  void anIgdWithOnlyPermanentLeasesGetsLeaseZero() throws Exception {
    try (FakeIgd igd = new FakeIgd()) {
      igd.onlyPermanentLeases = true;
      PortMapper mapper = fixture.mapper(closedPort(), igd.ssdpPort());

      Optional<Mapping> mapping = mapper.map(Duration.ofSeconds(3)).get(5, TimeUnit.SECONDS);

      assertThat(mapping).as("reported with the hour after which it is added again")
          .contains(new Mapping(Mapping.UPNP, EXTERNAL, Upnp.LEASE));
      igd.next(Upnp.GET_EXTERNAL_IP_ADDRESS);
      assertThat(igd.next(Upnp.ADD_PORT_MAPPING).arguments()).containsEntry("NewLeaseDuration", "3600");
      assertThat(igd.next(Upnp.ADD_PORT_MAPPING).arguments()).containsEntry("NewLeaseDuration", "0");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "urn:schemas-upnp-org:service:WANIPConnection:2",
      "urn:schemas-upnp-org:service:WANPPPConnection:1"})
  void otherWanConnectionServicesWork(String serviceType) throws Exception {
    try (FakeIgd igd = new FakeIgd()) {
      igd.serviceType = serviceType;
      PortMapper mapper = fixture.mapper(closedPort(), igd.ssdpPort());

      assertThat(mapper.map(Duration.ofSeconds(3)).get(5, TimeUnit.SECONDS)).isPresent();
      assertThat(igd.next(Upnp.GET_EXTERNAL_IP_ADDRESS).serviceType()).isEqualTo(serviceType);
    }
  }

  @Test
  void aDescriptionWithExternalEntitiesMapsNothingAndFetchesNothing() throws Exception {
    try (FakeIgd igd = new FakeIgd()) {
      igd.description = "<?xml version=\"1.0\"?><!DOCTYPE root [<!ENTITY x SYSTEM \"http://127.0.0.1:"
          + igd.httpPort() + "/evil\">]><root><device><serviceList><service><serviceType>"
          + "urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>&x;</controlURL>"
          + "</service></serviceList></device></root>";
      PortMapper mapper = fixture.mapper(closedPort(), igd.ssdpPort());

      assertThat(mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS)).isEmpty();
      assertThat(fixture.logged("describes no WANIPConnection or WANPPPConnection service")).isTrue();
      assertThat(igd.strayRequests).as("the entity was never fetched").isEmpty();
      assertThat(igd.actions).isEmpty();
    }
  }

  @Test
  void aLocationOffTheGatewayIsIgnored() throws Exception {
    try (FakeIgd igd = new FakeIgd()) {
      igd.location = URI.create("http://127.0.0.3:" + igd.httpPort() + "/rootDesc.xml");
      PortMapper mapper = fixture.mapper(closedPort(), igd.ssdpPort());

      assertThat(mapper.map(Duration.ofMillis(800)).get(5, TimeUnit.SECONDS)).isEmpty();
      assertThat(igd.searches).isNotEmpty();
      assertThat(igd.actions).isEmpty();
      assertThat(fixture.logged("unrelated or malformed answers")).isTrue();
    }
  }

  @Test
  void answersFromAnotherHostThanTheGatewayAreIgnored() throws Exception {
    // The gateway is 127.0.0.2; the device answers from 127.0.0.1.
    try (FakeIgd igd = new FakeIgd(InetAddress.getByAddress(new byte[4]))) {
      InetAddress gateway = InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
      PortMapper mapper = fixture.mapper(gateway, closedPort(), igd.ssdpPort());

      assertThat(mapper.map(Duration.ofMillis(800)).get(5, TimeUnit.SECONDS)).isEmpty();
      assertThat(igd.searches).isNotEmpty();
      assertThat(igd.actions).isEmpty();
    }
  }

  @Test
  void anEmptyExternalAddressMapsNothing() throws Exception {
    try (FakeIgd igd = new FakeIgd()) {
      igd.externalAddress = ""; // what miniupnpd answers when its WAN address is private
      PortMapper mapper = fixture.mapper(closedPort(), igd.ssdpPort());

      assertThat(mapper.map(Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS)).isEmpty();
      assertThat(fixture.logged("ext_allow_private_ipv4")).isTrue();
      igd.next(Upnp.GET_EXTERNAL_IP_ADDRESS);
      assertThat(igd.actions).isEmpty();
    }
  }

  @Test
  void aRenewalAddsTheSamePortAgainAndNeverMovesIt() throws Exception {
    try (FakeIgd igd = new FakeIgd()) {
      InFlight inFlight = new InFlight();
      UpnpClient client = new UpnpClient(LOOPBACK, List.of(new InetSocketAddress(LOOPBACK, igd.ssdpPort())),
          LOCAL_PORT, inFlight);

      Lease lease = client.map(Deadline.after(Duration.ofSeconds(3)));
      Lease renewed = lease.renew(Deadline.after(Duration.ofSeconds(3)));

      assertThat(renewed.mapping()).isEqualTo(lease.mapping());
      igd.next(Upnp.GET_EXTERNAL_IP_ADDRESS);
      igd.next(Upnp.ADD_PORT_MAPPING);
      igd.next(Upnp.GET_EXTERNAL_IP_ADDRESS);
      assertThat(igd.next(Upnp.ADD_PORT_MAPPING).arguments()).containsEntry("NewExternalPort", "41641");

      igd.taken.add(LOCAL_PORT);
      assertThatThrownBy(() -> renewed.renew(Deadline.after(Duration.ofSeconds(3))))
          .isInstanceOf(UpnpFaultException.class)
          .hasMessageContaining("718 ConflictInMappingEntry");
      igd.next(Upnp.GET_EXTERNAL_IP_ADDRESS);
      igd.next(Upnp.ADD_PORT_MAPPING);
      assertThat(igd.actions).as("no second port tried on renewal").isEmpty();
      assertThat(inFlight.size()).isZero();
    }
  }
}
