package dev.derphole.derp.map;

import dev.derphole.derp.net.IpLiteral;

import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One DERP (and usually STUN) server in a region: Tailscale's {@code tailcfg.DERPNode}.
 *
 * <p>Absent strings are {@code ""}, never null. The zero values mean what they mean in Go:
 * {@code derpPort} 0 is 443, {@code stunPort} 0 is 3478 and -1 is "no STUN", and an empty
 * {@code ipv4}/{@code ipv6} means "look HostName up in DNS". Any other text in {@code ipv4}/{@code ipv6}
 * that is not an address of that family (conventionally {@code "none"}) turns that family off.
 *
 * @param name             short node name such as {@code "1f"}; informational
 * @param regionId         the region this node belongs to (&gt; 0)
 * @param hostName         DNS name: the TLS SNI, the certificate name and the URL host. Required unless
 *                         {@code stunOnly}
 * @param certName         when set, the certificate is checked against this instead of {@code hostName};
 *                         {@code sha256-raw:<hex>} pins the SHA-256 of the leaf certificate's DER
 * @param ipv4             {@code ""}, an IPv4 literal, or {@code "none"}
 * @param ipv6             {@code ""}, an IPv6 literal, or {@code "none"}
 * @param stunPort         UDP STUN port: 0 = 3478, -1 = none
 * @param stunOnly         the node only answers STUN; never dial it for DERP
 * @param derpPort         TCP port for DERP: 0 = 443
 * @param insecureForTests skip certificate verification entirely (tests only)
 * @param canPort80        the node answers plain HTTP on port 80 (captive-portal checks)
 * @param plainHttp        our extension ({@code "PlainHTTP"}, ignored by Tailscale's decoders): the node
 *                         speaks DERP over plain HTTP, as a development relay ({@code derper --dev}) does
 */
public record DerpNode(String name, int regionId, String hostName, String certName, String ipv4, String ipv6,
                       int stunPort, boolean stunOnly, int derpPort, boolean insecureForTests, boolean canPort80,
                       boolean plainHttp) {

    /** A node as Tailscale describes it: over TLS. */
    public DerpNode(String name, int regionId, String hostName, String certName, String ipv4, String ipv6,
                    int stunPort, boolean stunOnly, int derpPort, boolean insecureForTests, boolean canPort80) {
        this(name, regionId, hostName, certName, ipv4, ipv6, stunPort, stunOnly, derpPort, insecureForTests,
            canPort80, false);
    }

    /** The DERP port a node listens on when {@code DERPPort} is 0: DERP runs over HTTPS. */
    public static final int DEFAULT_DERP_PORT = 443;
    /** The STUN port a node listens on when {@code STUNPort} is 0 (RFC 5389). */
    public static final int DEFAULT_STUN_PORT = 3478;
    /** {@code STUNPort} value meaning the node runs no STUN server. */
    public static final int NO_STUN = -1;

    public DerpNode {
        name = Objects.requireNonNullElse(name, "");
        hostName = Objects.requireNonNullElse(hostName, "");
        certName = Objects.requireNonNullElse(certName, "");
        ipv4 = Objects.requireNonNullElse(ipv4, "");
        ipv6 = Objects.requireNonNullElse(ipv6, "");
        String problem = problem(regionId, hostName, stunPort, stunOnly, derpPort);
        if (problem != null) {
            throw new IllegalArgumentException(label(regionId, name) + ": " + problem);
        }
    }

    /** How messages name a node: {@code region 1 node "1a"}. */
    static String label(int regionId, String name) {
        return "region " + regionId + (name.isEmpty() ? " unnamed node" : " node \"" + name + "\"");
    }

    private static String problem(int regionId, String hostName, int stunPort, boolean stunOnly, int derpPort) {
        if (regionId <= 0) {
            return "RegionID must be positive, got " + regionId;
        }
        if (hostName.isEmpty() && !stunOnly) {
            return "HostName is required (only STUNOnly nodes may leave it out)";
        }
        if (!hostName.isEmpty() && !isHostName(hostName)) {
            return "HostName \"" + hostName + "\" is not a host name or IP address";
        }
        if (derpPort < 0 || derpPort > 65535) {
            return "DERPPort " + derpPort + " is out of range (0 means 443, else 1..65535)";
        }
        if (stunPort < NO_STUN || stunPort > 65535) {
            return "STUNPort " + stunPort + " is out of range (-1 means none, 0 means 3478, else 1..65535)";
        }
        return null;
    }

    /** {@code text} as an IPv4 literal, or null; never a DNS lookup. */
    static Inet4Address ipv4Literal(String text) {
        return IpLiteral.parse(text).filter(Inet4Address.class::isInstance).map(Inet4Address.class::cast).orElse(null);
    }

    /** {@code text} as an IPv6 literal (not IPv4-mapped), or null; never a DNS lookup. */
    static Inet6Address ipv6Literal(String text) {
        return IpLiteral.parse(text).filter(Inet6Address.class::isInstance).map(Inet6Address.class::cast).orElse(null);
    }

    private static boolean isHostName(String text) {
        if (ipv6Literal(text) != null) {
            return true;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** The TCP port to dial for DERP. */
    public int effectiveDerpPort() {
        return derpPort == 0 ? DEFAULT_DERP_PORT : derpPort;
    }

    /** The UDP port to send STUN to, or empty when the node runs no STUN. */
    public OptionalInt effectiveStunPort() {
        if (stunPort == NO_STUN) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(stunPort == 0 ? DEFAULT_STUN_PORT : stunPort);
    }

    /** Whether to reach this node over IPv4: {@code ipv4} is empty (use DNS) or an IPv4 literal. */
    public boolean useIpv4() {
        return ipv4.isEmpty() || ipv4Literal(ipv4) != null;
    }

    /** Whether to reach this node over IPv6: {@code ipv6} is empty (use DNS) or an IPv6 literal. */
    public boolean useIpv6() {
        return ipv6.isEmpty() || ipv6Literal(ipv6) != null;
    }

    /**
     * The addresses to dial for DERP, the preferred family first, each with {@link #effectiveDerpPort()}.
     *
     * <p>A literal {@code ipv4}/{@code ipv6} is used as it is, with no DNS lookup. {@code hostName} is
     * looked up only when a family's field is empty, and only that family's answers are kept. A failed
     * lookup is not an error while a literal of the other family remains.
     *
     * @return the addresses; empty when both families are turned off (or, for a STUN-only node, when
     *         there is neither a literal nor a HostName)
     * @throws UncheckedIOException wrapping the {@link UnknownHostException} when a DNS lookup was needed,
     *                              failed, and left nothing to dial
     */
    public List<InetSocketAddress> dialAddresses(boolean preferIpv6) {
        InetAddress[] resolved = new InetAddress[0];
        UnknownHostException lookupFailure = null;
        if ((ipv4.isEmpty() || ipv6.isEmpty()) && !hostName.isEmpty()) {
            try {
                resolved = InetAddress.getAllByName(hostName);
            } catch (UnknownHostException e) {
                lookupFailure = e;
            }
        }
        List<InetAddress> v4 = family(ipv4, ipv4Literal(ipv4), Inet4Address.class, resolved);
        List<InetAddress> v6 = family(ipv6, ipv6Literal(ipv6), Inet6Address.class, resolved);
        List<InetSocketAddress> addresses = new ArrayList<>(v4.size() + v6.size());
        for (InetAddress address : preferIpv6 ? v6 : v4) {
            addresses.add(new InetSocketAddress(address, effectiveDerpPort()));
        }
        for (InetAddress address : preferIpv6 ? v4 : v6) {
            addresses.add(new InetSocketAddress(address, effectiveDerpPort()));
        }
        if (addresses.isEmpty() && lookupFailure != null) {
            throw new UncheckedIOException(
                    "cannot look up " + label(regionId, name) + ": " + lookupFailure.getMessage(),
                    lookupFailure);
        }
        return List.copyOf(addresses);
    }

    private static List<InetAddress> family(String field, InetAddress literal, Class<? extends InetAddress> type,
                                            InetAddress[] resolved) {
        if (literal != null) {
            return List.of(literal);
        }
        if (!field.isEmpty()) {
            return List.of(); // "none", or an address of the wrong family: this family is off
        }
        List<InetAddress> matching = new ArrayList<>();
        for (InetAddress address : resolved) {
            if (type.isInstance(address)) {
                matching.add(address);
            }
        }
        return matching;
    }

    /**
     * The DERP URL of this node: {@code https://HostName/derp} (with {@code :port} unless it is 443), or
     * with {@code plainHttp} {@code http://HostName:port/derp}. The port is {@link #effectiveDerpPort()} in
     * both cases, so a plain-HTTP node (such as {@code derper -dev} on 3340) should set {@code DERPPort}.
     *
     * @throws IllegalStateException for a STUN-only node without a HostName
     */
    public URI derpUri(boolean plainHttp) {
        if (hostName.isEmpty()) {
            throw new IllegalStateException(label(regionId, name) + " has no HostName, so no DERP URL");
        }
        int port = effectiveDerpPort();
        int uriPort = !plainHttp && port == DEFAULT_DERP_PORT ? -1 : port;
        try {
            return new URI(plainHttp ? "http" : "https", null, hostName, uriPort, "/derp", null, null);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("HostName was checked when the node was built: " + hostName, e);
        }
    }
}
