package dev.derphole.derp.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class DerpNodeTest {

    /** Guaranteed never to resolve (RFC 6761), so any lookup of it fails. */
    private static final String UNRESOLVABLE = "does-not-exist.invalid";

    private static DerpNode node(String host, String ipv4, String ipv6, int stunPort, int derpPort) {
        return new DerpNode("1a", 1, host, "", ipv4, ipv6, stunPort, false, derpPort, false, false);
    }

    @Test
    void zeroPortsMeanTheDefaults() {
        DerpNode node = node("derp.example", "", "", 0, 0);

        assertThat(node.effectiveDerpPort()).isEqualTo(443);
        assertThat(node.effectiveStunPort()).isEqualTo(OptionalInt.of(3478));
    }

    @Test
    void explicitPortsAreKeptAndStunMinusOneMeansNone() {
        DerpNode node = node("derp.example", "", "", -1, 8443);

        assertThat(node.effectiveDerpPort()).isEqualTo(8443);
        assertThat(node.effectiveStunPort()).isEmpty();
        assertThat(node("derp.example", "", "", 3479, 0).effectiveStunPort()).isEqualTo(OptionalInt.of(3479));
    }

    @Test
    void addressFieldsChooseTheFamilies() {
        assertThat(node("h", "", "", 0, 0).useIpv4()).isTrue();
        assertThat(node("h", "", "", 0, 0).useIpv6()).isTrue();
        assertThat(node("h", "none", "2001:db8::1", 0, 0).useIpv4()).isFalse();
        assertThat(node("h", "none", "2001:db8::1", 0, 0).useIpv6()).isTrue();
        assertThat(node("h", "192.0.2.1", "none", 0, 0).useIpv4()).isTrue();
        assertThat(node("h", "192.0.2.1", "none", 0, 0).useIpv6()).isFalse();
        // A value of the wrong family, or any other text, turns the family off just like "none".
        assertThat(node("h", "2001:db8::1", "192.0.2.1", 0, 0).useIpv4()).isFalse();
        assertThat(node("h", "2001:db8::1", "192.0.2.1", 0, 0).useIpv6()).isFalse();
        assertThat(node("h", "off", "-", 0, 0).useIpv4()).isFalse();
    }

    @Test
    void literalAddressesAreDialledWithoutDns() {
        DerpNode node = node(UNRESOLVABLE, "192.0.2.1", "2001:db8::1", 0, 0);

        assertThat(node.dialAddresses(false)).containsExactly(
                new InetSocketAddress(address("192.0.2.1"), 443), new InetSocketAddress(address("2001:db8::1"), 443));
        assertThat(node.dialAddresses(true)).containsExactly(
                new InetSocketAddress(address("2001:db8::1"), 443), new InetSocketAddress(address("192.0.2.1"), 443));
        assertThat(node.dialAddresses(false)).allSatisfy(a -> assertThat(a.isUnresolved()).isFalse());
    }

    @Test
    void noneSkipsAFamily() {
        DerpNode node = node(UNRESOLVABLE, "none", "2001:db8::1", 0, 8443);

        assertThat(node.dialAddresses(false)).containsExactly(new InetSocketAddress(address("2001:db8::1"), 8443));
    }

    @Test
    void aFailedLookupIsFineWhileALiteralRemains() {
        DerpNode node = node(UNRESOLVABLE, "192.0.2.1", "", 0, 0);

        assertThat(node.dialAddresses(true)).containsExactly(new InetSocketAddress(address("192.0.2.1"), 443));
    }

    @Test
    void aFailedLookupWithNothingElseIsAnError() {
        DerpNode node = node(UNRESOLVABLE, "", "", 0, 0);

        assertThatThrownBy(() -> node.dialAddresses(false))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageStartingWith("cannot look up region 1 node \"1a\": ")
                .hasMessageContaining(UNRESOLVABLE)
                .hasCauseInstanceOf(UnknownHostException.class);
    }

    @Test
    void emptyFieldsUseDns() {
        DerpNode node = node("localhost", "", "none", 0, 0);

        assertThat(node.dialAddresses(false))
                .isNotEmpty()
                .allSatisfy(a -> assertThat(a.getAddress().isLoopbackAddress()).isTrue());
    }

    @Test
    void bothFamiliesOffGivesNothingToDial() {
        assertThat(node(UNRESOLVABLE, "none", "none", 0, 0).dialAddresses(false)).isEmpty();
    }

    @Test
    void derpUriLeavesOutPort443() {
        assertThat(node("derp1f.tailscale.com", "", "", 0, 0).derpUri(false))
                .isEqualTo(URI.create("https://derp1f.tailscale.com/derp"));
        assertThat(node("derp1f.tailscale.com", "", "", 0, 443).derpUri(false))
                .isEqualTo(URI.create("https://derp1f.tailscale.com/derp"));
    }

    @Test
    void derpUriWithPort() {
        assertThat(node("derp.example", "", "", 0, 8443).derpUri(false))
                .isEqualTo(URI.create("https://derp.example:8443/derp"));
        assertThat(node("127.0.0.1", "", "", 0, 3340).derpUri(true))
                .isEqualTo(URI.create("http://127.0.0.1:3340/derp"));
        assertThat(node("2001:db8::7", "", "", 0, 3340).derpUri(true))
                .isEqualTo(URI.create("http://[2001:db8::7]:3340/derp"));
        assertThat(node("derp.example", "", "", 0, 0).derpUri(true))
                .isEqualTo(URI.create("http://derp.example:443/derp"));
    }

    @Test
    void aStunOnlyNodeMayLackAHostNameButHasNoDerpUri() {
        DerpNode stun = new DerpNode("s", 1, "", "", "192.0.2.9", "none", 0, true, 0, false, false);

        assertThat(stun.effectiveStunPort()).isEqualTo(OptionalInt.of(3478));
        assertThatThrownBy(() -> stun.derpUri(false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has no HostName");
    }

    @Test
    void constructorRejectsBadValuesByName() {
        assertThatThrownBy(() -> new DerpNode("x", 0, "h", "", "", "", 0, false, 0, false, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("region 0 node \"x\": RegionID must be positive, got 0");
        assertThatThrownBy(() -> node("h", "", "", 0, 70000))
                .hasMessageContaining("DERPPort 70000 is out of range");
        assertThatThrownBy(() -> node("bad host", "", "", 0, 0))
                .hasMessageContaining("HostName \"bad host\" is not a host name or IP address");
    }

    @Test
    void nullStringsBecomeEmpty() {
        DerpNode node = new DerpNode(null, 1, "h", null, null, null, 0, false, 0, false, false);

        assertThat(node.name()).isEmpty();
        assertThat(node.certName()).isEmpty();
        assertThat(node.useIpv4()).isTrue();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
