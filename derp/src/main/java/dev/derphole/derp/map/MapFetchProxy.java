package dev.derphole.derp.map;

import dev.derphole.derp.client.ProxyConfig;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * Points the DERP map fetch at the proxy {@link ProxyConfig#environment()} names for its URL, the
 * same one the DERP connections use. The JDK's client tunnels https through CONNECT and copies a
 * {@code Proxy-Authorization} header of the request into the CONNECT (and only there), once
 * {@link #allowBasicInTunnels()} has let it.
 */
final class MapFetchProxy {
    /**
     * The JDK leaves Basic {@code Proxy-Authorization} out of a CONNECT while this net property
     * lists Basic, which it does by default. It is read once, when the JDK's HTTP client first
     * loads, so {@link #allowBasicInTunnels()} must run before any {@code java.net.http} class.
     */
    static final String TUNNEL_DISABLED_SCHEMES = "jdk.http.auth.tunneling.disabledSchemes";

    private MapFetchProxy() {}

    /**
     * With a proxy in the environment, lets the credentials the user gave it reach it in the
     * CONNECT (they go nowhere else: the JDK sends proxy headers only to the proxy). A value the
     * user set for the property stands.
     */
    static void allowBasicInTunnels() {
        try {
            if (!ProxyConfig.environment().isEmpty() && System.getProperty(TUNNEL_DISABLED_SCHEMES) == null) {
                System.setProperty(TUNNEL_DISABLED_SCHEMES, "");
            }
        } catch (IllegalArgumentException e) {
            // a bad proxy variable: apply() reports it
        }
    }

    /** @throws IllegalArgumentException when a proxy variable cannot be used */
    static void apply(URI uri, HttpClient.Builder client, HttpRequest.Builder request) {
        boolean tls = "https".equals(uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT));
        int port = uri.getPort() > 0 ? uri.getPort() : (tls ? 443 : 80);
        String host = uri.getHost() == null ? "" : uri.getHost();
        Optional<ProxyConfig.Proxy> proxy = ProxyConfig.environment().forTarget(tls, host, port);
        if (proxy.isEmpty()) {
            return;
        }
        ProxyConfig.Proxy p = proxy.get();
        client.proxy(ProxySelector.of(new InetSocketAddress(p.host(), p.port())));
        if (p.hasCredentials()) {
            String pair = p.user() + ":" + p.password();
            request.header("Proxy-Authorization",
                    "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
        }
    }
}
