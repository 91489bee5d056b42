package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.token.RelayHint;
import dev.derphole.session.tunnel.ServerToken;
import dev.derphole.session.tunnel.TokenKind;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad derptun token gives one line on stderr, no stack trace, a non-zero exit, and never the
 * token itself: expired client and server tokens, a client token outliving its server token, a
 * tampered client token (the server's proof check), and each kind given where the other belongs.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DerptunBadInputIT extends RelayedIT {
  static final Duration EXIT = Duration.ofSeconds(60);

  private static Derphole serve;
  private static String serverToken;
  private static Path serverFile;
  private static String clientToken;

  @BeforeAll
  static void startServe(@TempDir Path shareDir) throws Exception {
    serverToken = Derptun.token(shared, shareDir, "token-server", relay.mapFile(), "dts1_", "token", "server", "--days", "10");
    serverFile = Derptun.file(shareDir, "server.dts", serverToken);
    clientToken = Derptun.token(shared, shareDir, "token-client", relay.mapFile(), "dtc1_", "token", "client",
        "--token-file", serverFile.toString(), "--days", "2");
    // Nothing listens on the target: these tests never get that far.
    serve = Derptun.start(shared, shareDir, "serve", relay.mapFile(), "--verbose", "serve", "--token-file",
        serverFile.toString(), "--tcp", "127.0.0.1:9");
    serve.awaitEvent("relay-connected");
  }

  /** Runs derptun ARGS to its exit: the exit code must be {@code code}, stderr one line; returns the message. */
  private String fails(int code, String name, String... args) throws Exception {
    Derphole p = Derptun.start(processes, dir, name, relay.mapFile(), args);
    p.assertExit(code, EXIT);
    String message = Derptun.oneLineError(p);
    assertThat(p.stdout).as("nothing on stdout").isEmptyFile();
    for (String token : new String[] {serverToken, clientToken}) {
      assertThat(message).doesNotContain(token.substring(5, 30));
    }
    return message;
  }

  @Test
  void anExpiredClientTokenIsRefusedBeforeDialing() throws Exception {
    ServerToken s = ServerToken.create(TokenKind.SERVER, RelayHint.region(1), Instant.now().plus(Duration.ofDays(5)));
    Instant longAgo = Instant.now().minus(Duration.ofDays(3));
    String expired = s.mintClient(longAgo.plus(Duration.ofDays(1)), longAgo).encode();
    Path file = Derptun.file(dir, "expired.dtc", expired);
    assertThat(fails(1, "connect", "connect", "--token-file", file.toString(), "--stdio"))
        .isEqualTo("the client token expired 2 days ago");
    assertThat(fails(1, "open", "open", "--token-file", file.toString())).isEqualTo("the client token expired 2 days ago");
  }

  @Test
  void anExpiredServerTokenNeitherServesNorMints() throws Exception {
    Instant longAgo = Instant.now().minus(Duration.ofDays(3));
    Path file = Derptun.file(dir, "expired.dts",
        ServerToken.create(TokenKind.SERVER, RelayHint.region(1), longAgo.plus(Duration.ofDays(1))).encode());
    assertThat(fails(1, "serve", "serve", "--token-file", file.toString(), "--tcp", "127.0.0.1:22"))
        .isEqualTo("the server token expired 2 days ago");
    assertThat(fails(1, "mint", "token", "client", "--token-file", file.toString()))
        .isEqualTo("the server token expired 2 days ago");
  }

  @Test
  void aClientTokenCannotOutliveItsServerToken() throws Exception {
    assertThat(fails(1, "mint", "token", "client", "--token-file", serverFile.toString(), "--days", "30"))
        .startsWith("a client token cannot outlive its server token");
  }

  @Test
  void aTamperedClientTokenFailsTheServersProof() throws Exception {
    Path file = Derptun.file(dir, "tampered.dtc", extendExpiry(clientToken, Duration.ofDays(1)));
    assertThat(fails(1, "connect", "connect", "--token-file", file.toString(), "--stdio"))
        .isEqualTo("the server refused this client token: it was altered (its proof does not verify)");
    serve.awaitEvent("client-refused");
  }

  @Test
  void eachKindWhereTheOtherBelongsSaysWhichWasExpected() throws Exception {
    assertThat(fails(1, "open", "open", "--token-file", serverFile.toString()))
        .contains("this is a server token").contains("`derptun open` needs a client token");
    assertThat(fails(1, "connect", "connect", "--token", serverToken, "--stdio"))
        .contains("this is a server token").contains("`derptun connect` needs a client token");
    Path client = Derptun.file(dir, "client.dtc", clientToken);
    assertThat(fails(1, "serve", "serve", "--token-file", client.toString(), "--tcp", "127.0.0.1:22"))
        .contains("this is a client token").contains("`derptun serve` needs the server token");
    assertThat(fails(1, "mint", "token", "client", "--token", clientToken))
        .contains("this is a client token").contains("`derptun token client` needs the server token");
  }

  @Test
  void damagedOrMissingTokensAreOneLineToo() throws Exception {
    String damaged = clientToken.substring(0, 40) + (clientToken.charAt(40) == 'A' ? 'B' : 'A') + clientToken.substring(41);
    assertThat(fails(1, "connect", "connect", "--token", damaged, "--stdio"))
        .isEqualTo("the derptun token is corrupted (checksum mismatch); copy it again");
    assertThat(fails(2, "neither", "connect", "--token", "no-such-file-or-token", "--stdio"))
        .isEqualTo("--token is neither a derptun token nor a readable file");
    assertThat(fails(2, "none", "open")).isEqualTo("give the token with --token, --token-file or --token-stdin");
    assertThat(fails(2, "both", "open", "--token", clientToken, "--token-file", serverFile.toString()))
        .isEqualTo("give only one of --token, --token-file, --token-stdin");
  }

  /** README: while the tunnel is down new connections are closed at once, also before it was ever up. */
  @Test
  void aConnectionIsClosedAtOnceWhileTheServerHasNeverBeenReached() throws Exception {
    String lonely = Derptun.token(processes, dir, "token-lonely", relay.mapFile(), "dts1_", "token", "server");
    Path lonelyFile = Derptun.file(dir, "lonely.dts", lonely);
    String client = Derptun.token(processes, dir, "token-lonely-client", relay.mapFile(), "dtc1_", "token", "client",
        "--token-file", lonelyFile.toString());
    Derphole open = Derptun.start(processes, dir, "open", relay.mapFile(), "open", "--token-file",
        Derptun.file(dir, "lonely.dtc", client).toString());
    int port = Derptun.listeningPort(open); // after 20 s: no serve runs for this token
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) Duration.ofSeconds(30).toMillis()); // a bound for a hang; the close comes at once
      int first;
      try {
        first = s.getInputStream().read();
      } catch (java.net.SocketException reset) {
        first = -1;
      }
      assertThat(first).as("the connection ends without data").isEqualTo(-1);
    }
    assertThat(open.process.isAlive()).as("open keeps running").isTrue();
  }

  @Test
  void connectionLimitsBelowOneAreUsageErrors() throws Exception {
    for (String flag : new String[] {"--max-connections", "--max-connections-per-client"}) {
      assertThat(fails(2, "limit" + flag, "serve", "--token-file", serverFile.toString(), "--tcp", "127.0.0.1:22",
          flag, "0")).isEqualTo("--max-connections and --max-connections-per-client must be at least 1");
    }
  }

  @Test
  void everyCommandHasHelpOnStderrAndNothingOnStdout() throws Exception {
    for (String[] cmd : new String[][] {{"token", "--help"}, {"token", "server", "--help"}, {"token", "client", "--help"},
        {"serve", "--help"}, {"open", "--help"}, {"connect", "--help"}}) {
      String name = "help-" + String.join("-", cmd).replace("--", "");
      Derphole p = Derptun.start(processes, dir, name, relay.mapFile(), cmd);
      p.assertExit(0, EXIT);
      assertThat(p.stdout).as("help of %s goes to stderr", String.join(" ", cmd)).isEmptyFile();
      assertThat(p.stderr()).startsWith("Usage: derptun " + cmd[0]);
    }
  }

  /**
   * The client token with its expiry moved by {@code by} and both checksums fixed: it decodes, and
   * only the server's proof check can tell.
   */
  static String extendExpiry(String token, Duration by) {
    byte[] bin = Base64.getUrlDecoder().decode(token.substring(5));
    int inner = 2 + 16 + 32; // kind, version, client id, proof
    int expiresAt = inner + 20; // in the embedded derphole token: magic, version, capability, session id
    ByteBuffer b = ByteBuffer.wrap(bin);
    b.putLong(expiresAt, b.getLong(expiresAt) + by.toSeconds());
    int innerCrc = bin.length - 4 - 4;
    CRC32C crc = new CRC32C();
    crc.update(bin, inner, innerCrc - inner);
    b.putInt(innerCrc, (int) crc.getValue());
    crc.reset();
    crc.update(bin, 0, bin.length - 4);
    b.putInt(bin.length - 4, (int) crc.getValue());
    return "dtc1_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bin);
  }
}
