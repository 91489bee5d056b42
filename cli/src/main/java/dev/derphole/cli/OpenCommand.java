package dev.derphole.cli;

import dev.derphole.derp.net.IpLiteral;
import dev.derphole.session.ClaimedSession;
import dev.derphole.session.SessionException;
import dev.derphole.session.share.OpenListener;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import dev.derphole.session.token.TokenException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code derphole open TOKEN [ADDRESS]}: a local port that leads to the service a {@code derphole share} offers. */
@Command(name = "open", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Open a local port that leads to the service `derphole share` offers.",
    "Every connection to it is carried there. Prints \"listening on ADDRESS:PORT\" on stderr and",
    "keeps listening until Ctrl-C or until the sharing side stops.",
    "",
    "  derphole open <token>                     any free port on 127.0.0.1",
    "  derphole open <token> 8080                127.0.0.1:8080",
    "  derphole open <token> 0.0.0.0:8080        every interface: others on your network can use it",
    ""})
final class OpenCommand implements Callable<Integer> {
  @ParentCommand
  DerpholeCommand global;

  @Parameters(index = "0", paramLabel = "TOKEN", description = "The token `derphole share` printed.")
  String token;

  @Parameters(index = "1", arity = "0..1", paramLabel = "ADDRESS",
      description = "Where to listen: host:port, :port or port (host 127.0.0.1; port 0 = any free port). Default 127.0.0.1:0.")
  String bind = "127.0.0.1:0";

  @Option(names = "--max-connections", paramLabel = "N",
      description = "Connections open at once; more are reset with a message (1-" + OpenListener.MAX_CONNECTIONS
          + ", default ${DEFAULT-VALUE}).")
  int maxConnections = OpenListener.DEFAULT_MAX_CONNECTIONS;

  @Mixin
  ForceRelay forceRelay;

  @Mixin
  ParallelAccepted parallel;

  @Override
  public Integer call() throws Exception {
    if (maxConnections < 1 || maxConnections > OpenListener.MAX_CONNECTIONS) {
      throw new Launcher.UsageException("--max-connections must be 1.." + OpenListener.MAX_CONNECTIONS + ", got " + maxConnections);
    }
    InetSocketAddress address;
    try {
      address = HostPort.parse(bind, "127.0.0.1");
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException(e.getMessage());
    }
    if (address.isUnresolved()) {
      throw new SessionException("cannot listen on " + bind + ": unknown host " + address.getHostString());
    }
    Token t;
    try {
      t = Token.decodeFor(token, Capability.SHARE, Instant.now());
    } catch (TokenException e) {
      throw new SessionException(e.getMessage());
    }
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced)) {
      ConnectionReport report = new ConnectionReport(setup.options.reporter(), global.options.verbose, Stderr.errors());
      // Bind before claiming: a taken port must not cost the one-shot token.
      OpenListener listener;
      try {
        listener = OpenListener.bind(setup.group, address, maxConnections, report);
      } catch (IOException e) {
        throw new SessionException(e.getMessage(), e);
      }
      try (listener; ClaimedSession session = ClaimedSession.claim(t, setup.options, null)) {
        listener.start(session.connection());
        Stderr.output().println("listening on " + IpLiteral.format(listener.localAddress()));
        Stderr.output().flush();
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        Thread hook = new Thread(() -> {
          stopping.set(true);
          session.interrupt();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        session.connection().closeFuture().await();
        if (stopping.get()) {
          return Launcher.OK; // Ctrl-C: the JVM is exiting, nothing to report
        }
        Runtime.getRuntime().removeShutdownHook(hook);
        throw new SessionException(session.reason("the connection to the other side closed"));
      }
    }
  }
}
