package dev.derphole.derp.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The choice between flag, environment, public map and bundled copy. A local server stands in for
 * Tailscale's public map; these tests never reach the internet.
 */
class DerpMapResolveTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private HttpServer server;
    private String flagUrl;
    private String envUrl;
    private String publicUrl;
    private String missingUrl;

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        serveRegion("/flag", 901);
        serveRegion("/env", 902);
        serveRegion("/public", 903);
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        flagUrl = base + "/flag";
        envUrl = base + "/env";
        publicUrl = base + "/public";
        missingUrl = base + "/missing";
    }

    private void serveRegion(String path, int regionId) {
        byte[] body = ("{\"Regions\": {\"" + regionId + "\": {\"Nodes\": [{\"Name\": \"a\", "
                + "\"HostName\": \"127.0.0.1\"}]}}}").getBytes(StandardCharsets.UTF_8);
        server.createContext(path, exchange -> {
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    @Test
    void theFlagBeatsTheEnvironment() throws Exception {
        DerpMapSource.Resolved resolved =
                DerpMapSource.resolve(flagUrl, Map.of(DerpMapSource.ENV, envUrl), TIMEOUT, publicUrl);

        assertThat(resolved.map().regions()).containsOnlyKeys(901);
        assertThat(resolved.source()).isEqualTo(flagUrl);
        assertThat(resolved.warning()).isEmpty();
    }

    @Test
    void theEnvironmentBeatsThePublicMap() throws Exception {
        DerpMapSource.Resolved resolved =
                DerpMapSource.resolve(null, Map.of(DerpMapSource.ENV, envUrl), TIMEOUT, publicUrl);

        assertThat(resolved.map().regions()).containsOnlyKeys(902);
        assertThat(resolved.source()).isEqualTo(envUrl + " (from DERPHOLE_DERP_MAP)");
    }

    @Test
    void withNeitherThePublicMapIsUsed() throws Exception {
        DerpMapSource.Resolved resolved = DerpMapSource.resolve("  ", Map.of(DerpMapSource.ENV, ""), TIMEOUT, publicUrl);

        assertThat(resolved.map().regions()).containsOnlyKeys(903);
        assertThat(resolved.source()).isEqualTo(publicUrl);
        assertThat(resolved.warning()).isEmpty();
    }

    @Test
    void aFailingFlagIsAnErrorNotAFallback() {
        assertThatThrownBy(() -> DerpMapSource.resolve(missingUrl, Map.of(DerpMapSource.ENV, envUrl), TIMEOUT,
                publicUrl))
                .isInstanceOf(DerpMapException.class)
                .hasMessage("DERP map URL " + missingUrl + " returned HTTP 404");
    }

    @Test
    void aFailingEnvironmentIsAnErrorNamingTheVariable() {
        assertThatThrownBy(() -> DerpMapSource.resolve(null, Map.of(DerpMapSource.ENV, "/no/such/map.json"), TIMEOUT,
                publicUrl))
                .isInstanceOf(DerpMapException.class)
                .hasMessage("DERPHOLE_DERP_MAP: cannot read DERP map from /no/such/map.json: no such directory");
    }

    @Test
    void aFailingPublicMapFallsBackToTheBundledCopyWithAWarning() throws Exception {
        DerpMapSource.Resolved resolved = DerpMapSource.resolve(null, Map.of(), TIMEOUT, missingUrl);

        assertThat(resolved.map()).isEqualTo(DerpMapSource.bundled());
        assertThat(resolved.source()).isEqualTo("bundled DERP map");
        assertThat(resolved.warning()).hasValue("DERP map URL " + missingUrl + " returned HTTP 404; "
                + "using the bundled DERP map, which may be out of date");
    }
}
