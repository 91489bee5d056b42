package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A relay certificate that does not verify is named as such, and a listener and a claimant that
 * share a DERP map agree on how to check the relay's certificate.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RelayCertificateIT extends RelayedIT {
  static final Path NO_INPUT = Path.of("/dev/null");
  static final Duration EXIT = Duration.ofSeconds(60);

  /** The shared relay's map with its node's {@code "CertName":"…"} replaced by {@code replacement}. */
  private Path mapWith(String name, String replacement) throws Exception {
    String map = Files.readString(relay.mapFile());
    String edited = map.replaceFirst("\"CertName\":\"[^\"]*\"", replacement);
    assertThat(edited).isNotEqualTo(map);
    return Files.writeString(dir.resolve(name), edited);
  }

  /** Troubleshooting's `TLS handshake failed` for a map whose CertName is stale, not "could not reach". */
  @Test
  void aStaleCertNameIsReportedAsARefusedCertificate() throws Exception {
    Path stale = mapWith("stale.json", "\"CertName\":\"sha256-raw:" + "ab".repeat(32) + "\"");
    Derphole listen = Derphole.start(processes, dir, "listen", stale, NO_INPUT, "listen");
    listen.assertExit(1, EXIT);
    assertThat(listen.stdout).isEmptyFile();
    assertThat(listen.assertOneLineError())
        .startsWith("DERP https://127.0.0.1:" + relay.node().derpPort() + "/derp (127.0.0.1:" + relay.node().derpPort()
            + "): TLS handshake failed: the relay's certificate was refused: ")
        .endsWith("it does not match the sha256-raw CertName pinned for it");
  }

  /** A test relay marked InsecureForTests, with no pin: the claimant takes the node from its own map, as the listener did. */
  @Test
  void aListenerAndAClaimantSharingAMapAgreeOnAnInsecureTestRelay() throws Exception {
    Path insecure = mapWith("insecure.json", "\"InsecureForTests\":true");
    Path input = Files.writeString(dir.resolve("input"), "through an unpinned test relay\n");
    Derphole listen = Derphole.start(processes, dir, "listen", insecure, NO_INPUT, "listen");
    String token = listen.awaitToken();
    Derphole pipe = Derphole.start(processes, dir, "pipe", insecure, input, "pipe", token);
    pipe.assertExit(0, EXIT);
    listen.assertExit(0, EXIT);
    assertThat(listen.stdout).hasSameTextualContentAs(input);
  }
}
