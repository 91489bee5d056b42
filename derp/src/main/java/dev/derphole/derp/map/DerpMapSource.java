package dev.derphole.derp.map;

import dev.derphole.derp.io.Failures;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * Where a DERP map comes from: an http(s) URL, a file, or the copy bundled in the jar.
 *
 * <p>{@link #resolve} picks one: the command-line flag, else {@code $DERPHOLE_DERP_MAP}, else Tailscale's
 * public map. Only the public default may silently give way to the bundled copy (with a warning); a map
 * the user named explicitly either loads or fails.
 */
public final class DerpMapSource {
    /** Tailscale's public DERP map. */
    public static final String PUBLIC_MAP_URL = "https://controlplane.tailscale.com/derpmap/default";
    /** Environment variable naming a DERP map URL or file, used when no flag is given. */
    public static final String ENV = "DERPHOLE_DERP_MAP";

    /** Largest map accepted from a URL or file; the public map is a few tens of KiB. */
    static final int MAX_MAP_BYTES = 4 * 1024 * 1024;
    static final String BUNDLED_RESOURCE = "default-derp-map.json";
    static final String BUNDLED_SOURCE = "bundled DERP map";

    private static final Pattern URL_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://");

    private DerpMapSource() {}

    /**
     * The map chosen by {@link #resolve}.
     *
     * @param source  where it came from, for messages: the URL or file, with {@code (from DERPHOLE_DERP_MAP)}
     *                when the environment named it, or {@code bundled DERP map}
     * @param warning set when the public map could not be loaded and the bundled copy stands in for it
     */
    public record Resolved(DerpMap map, String source, Optional<String> warning) {
        public Resolved {
            Objects.requireNonNull(map, "map");
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(warning, "warning");
        }
    }

    /**
     * Loads a map from an {@code http://} or {@code https://} URL (a GET that must answer 200), a
     * {@code file:} URI, or a file path. The whole fetch, body included, must finish within
     * {@code timeout}, and the map may be at most 4 MiB.
     *
     * @throws DerpMapException with a one-line message naming the location and what went wrong
     */
    public static DerpMap load(String urlOrFile, Duration timeout) throws DerpMapException {
        Objects.requireNonNull(urlOrFile, "urlOrFile");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        if (urlOrFile.isBlank()) {
            throw new DerpMapException("no DERP map URL or file given");
        }
        String lower = urlOrFile.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            return fetch(urlOrFile, timeout);
        }
        if (lower.startsWith("file:")) {
            return readFile(urlOrFile, fileUriPath(urlOrFile));
        }
        if (URL_SCHEME.matcher(urlOrFile).find()) {
            throw new DerpMapException("cannot read DERP map from " + urlOrFile
                    + ": only http, https and file URLs are supported");
        }
        try {
            return readFile(urlOrFile, Path.of(urlOrFile));
        } catch (InvalidPathException e) {
            throw new DerpMapException("cannot read DERP map from " + urlOrFile + ": not a valid path", e);
        }
    }

    /** The copy of Tailscale's public map bundled in the jar; see the package documentation. */
    public static DerpMap bundled() {
        try (InputStream in = DerpMapSource.class.getResourceAsStream(BUNDLED_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the bundled DERP map " + BUNDLED_RESOURCE + " is missing");
            }
            return DerpMap.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException | DerpMapException e) {
            throw new IllegalStateException("the bundled DERP map cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * Chooses the DERP map: {@code flagValueOrNull} if given, else {@code env[DERPHOLE_DERP_MAP]} if set,
     * else the public map, falling back to {@link #bundled()} with a warning when the public map cannot be
     * loaded. Blank values count as not given.
     *
     * @throws DerpMapException when the flag or the environment names a map that cannot be loaded
     */
    public static Resolved resolve(String flagValueOrNull, Map<String, String> env, Duration timeout)
            throws DerpMapException {
        return resolve(flagValueOrNull, env, timeout, PUBLIC_MAP_URL);
    }

    /** {@link #resolve(String, Map, Duration)} with the public map's URL replaced, for tests. */
    static Resolved resolve(String flagValueOrNull, Map<String, String> env, Duration timeout, String publicUrl)
            throws DerpMapException {
        Objects.requireNonNull(env, "env");
        if (flagValueOrNull != null && !flagValueOrNull.isBlank()) {
            return new Resolved(load(flagValueOrNull, timeout), flagValueOrNull, Optional.empty());
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            try {
                return new Resolved(load(fromEnv, timeout), fromEnv + " (from " + ENV + ")", Optional.empty());
            } catch (DerpMapException e) {
                throw new DerpMapException(ENV + ": " + e.getMessage(), e);
            }
        }
        try {
            return new Resolved(load(publicUrl, timeout), publicUrl, Optional.empty());
        } catch (DerpMapException e) {
            return new Resolved(bundled(), BUNDLED_SOURCE,
                    Optional.of(e.getMessage() + "; using the bundled DERP map, which may be out of date"));
        }
    }

    private static Path fileUriPath(String text) throws DerpMapException {
        try {
            return Path.of(new URI(text));
        } catch (URISyntaxException | IllegalArgumentException | FileSystemNotFoundException e) {
            throw new DerpMapException("cannot read DERP map from " + text + ": not a valid file URI", e);
        }
    }

    private static DerpMap readFile(String shown, Path path) throws DerpMapException {
        if (Files.isDirectory(path)) {
            throw new DerpMapException("cannot read DERP map from " + shown + ": it is a directory");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(path)) {
            bytes = in.readNBytes(MAX_MAP_BYTES + 1);
        } catch (IOException e) {
            throw new DerpMapException("cannot read DERP map from " + shown + ": " + Failures.describe(e), e);
        }
        if (bytes.length > MAX_MAP_BYTES) {
            throw new DerpMapException("DERP map " + shown + " is larger than " + mebibytes(MAX_MAP_BYTES));
        }
        return parseFrom(shown, bytes);
    }

    private static DerpMap fetch(String url, Duration timeout) throws DerpMapException {
        MapFetchProxy.allowBasicInTunnels(); // before the first java.net.http class loads
        HttpRequest request;
        HttpClient.Builder builder = HttpClient.newBuilder();
        try {
            HttpRequest.Builder rb = HttpRequest.newBuilder(new URI(url));
            MapFetchProxy.apply(rb.build().uri(), builder, rb); // HTTPS_PROXY and friends, as for DERP
            request = rb
                    .timeout(timeout)
                    .header("Accept", "application/json")
                    .GET()
                    .build();
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new DerpMapException("invalid DERP map URL " + url + ": " + e.getMessage(), e);
        }
        // Java 17's HttpClient has no close(); its threads end once it is unreachable.
        HttpClient client = builder
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        CompletableFuture<HttpResponse<byte[]>> pending = client.sendAsync(request, response ->
                response.statusCode() == 200
                        ? new BoundedBody(MAX_MAP_BYTES)
                        : HttpResponse.BodySubscribers.replacing(null));
        HttpResponse<byte[]> response;
        try {
            response = pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw new DerpMapException("DERP map URL " + url + " did not answer within " + seconds(timeout), e);
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            throw new DerpMapException("interrupted while fetching the DERP map from " + url, e);
        } catch (ExecutionException e) {
            throw fetchFailure(url, timeout, e.getCause());
        }
        if (response.statusCode() != 200) {
            throw new DerpMapException("DERP map URL " + url + " returned HTTP " + response.statusCode());
        }
        return parseFrom(url, response.body());
    }

    private static DerpMapException fetchFailure(String url, Duration timeout, Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof BoundedBody.TooLarge) {
                return new DerpMapException(
                        "DERP map from " + url + " is larger than " + mebibytes(MAX_MAP_BYTES), failure);
            }
            if (t instanceof HttpConnectTimeoutException) {
                return new DerpMapException("cannot fetch DERP map from " + url + ": no connection within "
                        + seconds(timeout), failure);
            }
            if (t instanceof HttpTimeoutException) {
                return new DerpMapException(
                        "DERP map URL " + url + " did not answer within " + seconds(timeout), failure);
            }
            if (t instanceof UnresolvedAddressException) {
                return new DerpMapException("cannot fetch DERP map from " + url + ": unknown host", failure);
            }
        }
        String reason;
        if (failure instanceof ConnectException) {
            reason = "cannot connect" + (failure.getMessage() == null ? "" : " (" + failure.getMessage() + ")");
        } else if (failure instanceof SSLException) {
            reason = "TLS failed: " + Failures.describe(failure);
        } else {
            reason = Failures.describe(failure);
        }
        return new DerpMapException("cannot fetch DERP map from " + url + ": " + reason, failure);
    }

    private static DerpMap parseFrom(String source, byte[] bytes) throws DerpMapException {
        String json = new String(bytes, StandardCharsets.UTF_8);
        if (json.startsWith("\uFEFF")) {
            json = json.substring(1); // a byte-order mark some editors write
        }
        try {
            return DerpMap.parse(json);
        } catch (DerpMapException e) {
            throw new DerpMapException("invalid DERP map from " + source + ": " + e.getMessage(), e);
        }
    }


    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static String mebibytes(int bytes) {
        return bytes / (1024 * 1024) + " MiB";
    }
}
