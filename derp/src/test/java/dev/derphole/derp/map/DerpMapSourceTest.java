package dev.derphole.derp.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DerpMapSourceTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final String MAP = """
            {"Regions": {"900": {"RegionID": 900, "RegionCode": "lab",
              "Nodes": [{"Name": "900a", "RegionID": 900, "HostName": "127.0.0.1", "DERPPort": 3340}]}}}
            """;

    @TempDir
    Path dir;

    private HttpServer server;
    private String base;

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/derpmap", exchange -> {
            byte[] body = MAP.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/huge", exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked, length unknown
            byte[] spaces = new byte[64 * 1024];
            java.util.Arrays.fill(spaces, (byte) ' ');
            try (OutputStream out = exchange.getResponseBody()) {
                for (int written = 0; written <= DerpMapSource.MAX_MAP_BYTES; written += spaces.length) {
                    out.write(spaces);
                }
            } catch (IOException clientGaveUp) {
                // expected: the client cancels once the body passes the limit
            }
        });
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    @Test
    void loadsFromAnHttpUrl() throws Exception {
        DerpMap map = DerpMapSource.load(base + "/derpmap", TIMEOUT);

        assertThat(map.region(900).orElseThrow().regionCode()).isEqualTo("lab");
    }

    @Test
    void anHttpErrorStatusIsReported() {
        assertThatThrownBy(() -> DerpMapSource.load(base + "/missing", TIMEOUT))
                .isInstanceOf(DerpMapException.class)
                .hasMessage("DERP map URL " + base + "/missing returned HTTP 404");
    }

    @Test
    void aRefusedConnectionFailsQuickly() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        String url = "http://127.0.0.1:" + closedPort + "/derpmap";
        long start = System.nanoTime();

        assertThatThrownBy(() -> DerpMapSource.load(url, Duration.ofSeconds(3)))
                .isInstanceOf(DerpMapException.class)
                .hasMessageStartingWith("cannot fetch DERP map from " + url + ": cannot connect");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void aServerThatNeverAnswersTimesOut() throws Exception {
        // The kernel completes the handshake from the backlog; nothing ever reads or answers.
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String url = "http://127.0.0.1:" + silent.getLocalPort() + "/derpmap";
            long start = System.nanoTime();

            assertThatThrownBy(() -> DerpMapSource.load(url, Duration.ofMillis(500)))
                    .isInstanceOf(DerpMapException.class)
                    .hasMessage("DERP map URL " + url + " did not answer within 500ms");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void anOversizedBodyIsRefused() {
        assertThatThrownBy(() -> DerpMapSource.load(base + "/huge", TIMEOUT))
                .isInstanceOf(DerpMapException.class)
                .hasMessage("DERP map from " + base + "/huge is larger than 4 MiB");
    }

    @Test
    void loadsFromAFilePathAndAFileUri() throws Exception {
        Path file = Files.writeString(dir.resolve("map.json"), MAP);

        assertThat(DerpMapSource.load(file.toString(), TIMEOUT).region(900)).isPresent();
        assertThat(DerpMapSource.load(file.toUri().toString(), TIMEOUT).region(900)).isPresent();
    }

    @Test
    void aFileWithAByteOrderMarkLoads() throws Exception {
        Path file = Files.writeString(dir.resolve("bom.json"), "\uFEFF" + MAP);

        assertThat(DerpMapSource.load(file.toString(), TIMEOUT).region(900)).isPresent();
    }

    @Test
    void aMissingFileSaysSo() {
        Path missing = dir.resolve("nope.json");

        assertThatThrownBy(() -> DerpMapSource.load(missing.toString(), TIMEOUT))
                .isInstanceOf(DerpMapException.class)
                .hasMessage("cannot read DERP map from " + missing + ": no such file or directory");
        assertThatThrownBy(() -> DerpMapSource.load(dir.toString(), TIMEOUT))
                .hasMessage("cannot read DERP map from " + dir + ": it is a directory");
    }

    @Test
    void anInvalidMapNamesItsSourceAndTheFault() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.json"),
                "{\"Regions\": {\"1\": {\"Nodes\": [{\"Name\": \"1a\"}]}}}");

        assertThatThrownBy(() -> DerpMapSource.load(file.toString(), TIMEOUT))
                .hasMessage("invalid DERP map from " + file
                        + ": region 1 node \"1a\": HostName is required (only STUNOnly nodes may leave it out)");
    }

    @Test
    void anOversizedFileIsRefused() throws Exception {
        Path file = dir.resolve("huge.json");
        Files.write(file, new byte[DerpMapSource.MAX_MAP_BYTES + 1]);

        assertThatThrownBy(() -> DerpMapSource.load(file.toString(), TIMEOUT))
                .hasMessage("DERP map " + file + " is larger than 4 MiB");
    }

    @Test
    void otherUrlSchemesAreRefused() {
        assertThatThrownBy(() -> DerpMapSource.load("ftp://example.com/map.json", TIMEOUT))
                .hasMessage("cannot read DERP map from ftp://example.com/map.json: "
                        + "only http, https and file URLs are supported");
    }

    @Test
    void theBundledMapParsesAndHasRegionOne() {
        DerpMap map = DerpMapSource.bundled();

        DerpRegion nyc = map.region(1).orElseThrow();
        assertThat(nyc.regionCode()).isEqualTo("nyc");
        assertThat(nyc.derpNodes()).isNotEmpty();
        assertThat(map.regionsById()).hasSizeGreaterThanOrEqualTo(12);
        assertThat(map.regions().values())
                .flatMap(DerpRegion::nodes)
                .allSatisfy(node -> assertThat(node.hostName()).matches("derp[0-9]+[a-z]?\\.tailscale\\.com"));
    }
}
