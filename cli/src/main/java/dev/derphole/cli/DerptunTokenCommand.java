package dev.derphole.cli;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.SessionException;
import dev.derphole.session.rendezvous.RelayPicker;
import dev.derphole.session.tunnel.ClientToken;
import dev.derphole.session.tunnel.ServerToken;
import dev.derphole.session.tunnel.TokenKind;
import dev.derphole.session.token.TokenException;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code derptun token}: prints a shared token (the one-token form, the same token on both sides);
 * {@code token server} and {@code token client} make the two-token form. stdout is exactly the
 * token and a newline; {@code --output FILE} writes it to a new file with mode 0600 instead.
 */
@Command(name = "token", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Print a shared token (dtt1_), or with `server` / `client` the two-token form.",
    "A shared token serves and connects alike: simple, but every client then holds the server's",
    "secret. For separate tokens, use `token server` and `token client`.",
    "",
    "  derptun token --days 7 --output alpha.token       # mode 0600",
    ""},
    subcommands = {DerptunTokenCommand.Server.class, DerptunTokenCommand.Client.class})
final class DerptunTokenCommand implements Callable<Integer> {
  @ParentCommand
  DerptunCommand global;

  @Mixin
  TokenExpiry expiry;

  @Mixin
  Output output;

  @Override
  public Integer call() throws Exception {
    Instant now = Instant.now();
    Instant expires = expiry.resolve(now, ClientToken.DEFAULT_LIFETIME);
    output.write(ServerToken.create(TokenKind.SHARED, relay(global), expires).encode());
    return Launcher.OK;
  }

  /** The relay the tokens name: the fastest region of the map, or with our own map its relay itself. */
  static dev.derphole.session.token.RelayHint relay(DerptunCommand global) throws SessionException {
    try (SessionSetup setup = new SessionSetup(global.options, false)) {
      RelayPicker.Choice c = RelayPicker.forIssuer(setup.options.maps().load(), setup.options.customMap(),
          RelayPicker.PROBE_BUDGET);
      setup.options.reporter().event("relay", c.label());
      return c.hint();
    }
  }

  @Command(name = "server", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
      "Print a new server token (dts1_, secret; default 180 days).",
      "It serves the tunnel and mints client tokens: keep it on the server.",
      "",
      "  derptun token server --days 180 --output server.dts       # mode 0600",
      ""})
  static final class Server implements Callable<Integer> {
    @ParentCommand
    DerptunTokenCommand parent;

    @Mixin
    TokenExpiry expiry;

    @Mixin
    Output output;

    @Override
    public Integer call() throws Exception {
      Instant expires = expiry.resolve(Instant.now(), ServerToken.DEFAULT_LIFETIME);
      output.write(ServerToken.create(TokenKind.SERVER, relay(parent.global), expires).encode());
      return Launcher.OK;
    }
  }

  @Command(name = "client", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
      "Print a client token (dtc1_) minted from a server token.",
      "It connects until it expires (default 90 days, never past the server token), and cannot serve",
      "or mint.",
      "",
      "  derptun token client --token-file server.dts --days 7 --output client.dtc       # mode 0600",
      ""})
  static final class Client implements Callable<Integer> {
    @ParentCommand
    DerptunTokenCommand parent;

    @Mixin
    TunnelTokenSource source;

    @Mixin
    TokenExpiry expiry;

    @Mixin
    Output output;

    @Override
    public Integer call() throws Exception {
      Instant now = Instant.now();
      ServerToken server;
      try {
        server = source.server("derptun token client");
      } catch (TokenException e) {
        throw new SessionException(e.getMessage());
      }
      Instant expires = expiry.resolve(now, ClientToken.DEFAULT_LIFETIME);
      if (expiry.days == null && expiry.expires == null && expires.isAfter(server.expires())) {
        expires = server.expires(); // the default never outlives the server token
      }
      try {
        output.write(server.mintClient(expires, now).encode());
      } catch (TokenException e) {
        throw new SessionException(e.getMessage());
      }
      return Launcher.OK;
    }
  }

  /** A client token of the default lifetime, never past the server token's. */
  static ClientToken defaultClient(ServerToken server, Instant now) throws SessionException {
    Instant expires = now.plus(ClientToken.DEFAULT_LIFETIME);
    try {
      return server.mintClient(expires.isAfter(server.expires()) ? server.expires() : expires, now);
    } catch (TokenException e) {
      throw new SessionException(e.getMessage());
    }
  }

  /** stdout, or {@code --output FILE} (a new file, mode 0600). */
  static final class Output {
    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
        description = "Write the token to FILE (created with mode 0600; must not exist) instead of stdout.")
    Path file;

    @Mixin
    QrOption qr = new QrOption(); // picocli fills this one in; a test may use Output without picocli

    void write(String token) throws SessionException {
      writeText(token);
      qr.show("The token as a QR code:", token);
    }

    private void writeText(String token) throws SessionException {
      byte[] line = (token + "\n").getBytes(StandardCharsets.US_ASCII);
      if (file == null) {
        System.out.write(line, 0, line.length);
        System.out.flush();
        return;
      }
      try (SeekableByteChannel ch = Files.newByteChannel(file, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
          OwnerOnly.file(file))) {
        ch.write(java.nio.ByteBuffer.wrap(line));
      } catch (FileAlreadyExistsException e) {
        throw new SessionException(file + " already exists; remove it or choose another --output");
      } catch (IOException e) {
        throw new SessionException("cannot write " + file + ": " + Failures.describe(e));
      }
    }
  }

}
