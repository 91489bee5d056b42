package dev.derphole.cli;

import dev.derphole.session.SessionException;
import dev.derphole.session.tunnel.ClientToken;
import dev.derphole.session.tunnel.StdioStream;
import dev.derphole.session.tunnel.TunnelClient;
import dev.derphole.session.token.TokenException;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code derptun connect --stdio}: one connection on stdin/stdout, for SSH's ProxyCommand. */
@Command(name = "connect", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Forward one connection on stdin/stdout, for SSH's ProxyCommand.",
    "stdout carries only tunnel bytes. Waits up to 60 s for the server; exits 0 when the server side",
    "closes the connection.",
    "",
    "  ssh -o ProxyCommand='derptun connect --token-file ~/.config/derptun/alpha.token --stdio' me@alpha",
    ""})
final class DerptunConnectCommand implements Callable<Integer> {
  /** How long connect keeps trying to reach the server (relay down, server restarting) before it gives up. */
  static final Duration CONNECT_WAIT = Duration.ofSeconds(60);

  @ParentCommand
  DerptunCommand global;

  @Mixin
  TunnelTokenSource source;

  @Option(names = "--stdio", required = true, description = "Use stdin and stdout as the connection (required).")
  boolean stdio;

  @Mixin
  ForceRelay forceRelay;

  @Override
  public Integer call() throws Exception {
    ClientToken token;
    try {
      token = source.client("derptun connect");
    } catch (TokenException e) {
      throw new SessionException(e.getMessage());
    }
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced);
         TunnelClient client = new TunnelClient(token, setup.options).start()) {
      QuicChannel quic = client.awaitConnection(CONNECT_WAIT);
      try {
        StdioStream.run(quic, new FileInputStream(FileDescriptor.in), new FileOutputStream(FileDescriptor.out));
      } catch (SessionException e) {
        throw new SessionException(e.getMessage() + " (" + client.reason("the tunnel dropped") + ")", e);
      }
      return Launcher.OK;
    }
  }
}
