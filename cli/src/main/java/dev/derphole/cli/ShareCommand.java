package dev.derphole.cli;

import dev.derphole.session.IssuedSession;
import dev.derphole.session.SessionException;
import dev.derphole.session.share.ShareServer;
import dev.derphole.session.token.Capability;
import io.netty.handler.codec.quic.QuicChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code derphole share HOST:PORT}: make a local TCP service reachable from the machine that runs {@code open}. */
@Command(name = "share", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Share a TCP service of this machine with one other machine.",
    "Prints a token on stderr; there, `derphole open <token>` listens on a local port, and every",
    "connection to it reaches TARGET here, until Ctrl-C on either side.",
    "",
    "  derphole share 3000                       derphole open <token>            (127.0.0.1:<any>)",
    "  derphole share db.internal:5432           derphole open <token> 127.0.0.1:5432",
    ""})
final class ShareCommand implements Callable<Integer> {
  @ParentCommand
  DerpholeCommand global;

  @Parameters(index = "0", paramLabel = "TARGET",
      description = "The service: host:port, :port or port (host 127.0.0.1). Dialled anew for every connection.")
  String target;

  @Mixin
  TokenDisplay display;

  @Mixin
  ForceRelay forceRelay;

  @Override
  public Integer call() throws Exception {
    InetSocketAddress parsed;
    try {
      parsed = HostPort.parse(target, "127.0.0.1");
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException(e.getMessage());
    }
    if (parsed.getPort() == 0) {
      throw new Launcher.UsageException("TARGET needs a port other than 0: \"" + target + "\"");
    }
    InetSocketAddress unresolved = InetSocketAddress.createUnresolved(parsed.getHostString(), parsed.getPort());
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced)) {
      ShareServer server = new ShareServer(unresolved, new ConnectionReport(setup.options.reporter(), global.options.verbose, Stderr.errors()));
      try (IssuedSession session = IssuedSession.open(Capability.SHARE, setup.options, server.streamHandler())) {
        display.show("derphole open", session.token().encode());
        setup.options.reporter().event("waiting-for-claim", "");
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        Thread hook = new Thread(() -> {
          stopping.set(true);
          session.interrupt();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        QuicChannel quic = session.awaitConnection();
        setup.options.reporter().event("sharing", unresolved.getHostString() + ":" + unresolved.getPort());
        quic.closeFuture().await();
        if (stopping.get()) {
          return Launcher.OK; // Ctrl-C: the JVM is exiting, nothing to report
        }
        Runtime.getRuntime().removeShutdownHook(hook);
        throw new SessionException(session.reason("the connection to the other side closed"));
      }
    }
  }
}
