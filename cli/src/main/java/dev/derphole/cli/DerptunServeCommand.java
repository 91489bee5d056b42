package dev.derphole.cli;

import dev.derphole.session.Reporter;
import dev.derphole.session.SessionException;
import dev.derphole.session.share.ConnectionEvents;
import dev.derphole.session.share.ShareServer;
import dev.derphole.session.tunnel.ClientToken;
import dev.derphole.session.tunnel.ServerToken;
import dev.derphole.session.tunnel.TunnelServer;
import dev.derphole.session.token.TokenException;
import dev.derphole.session.tunnel.udp.NoTcpService;
import dev.derphole.session.tunnel.udp.UdpLimits;
import dev.derphole.session.tunnel.udp.UdpTarget;
import io.netty.channel.ChannelHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code derptun serve}: forwards every client's connections to a local TCP service, until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Serve a local TCP service to derptun clients until the token expires.",
    "Stops earlier on Ctrl-C.",
    "Stays up across relay restarts and network loss; any number of clients at once, each with any",
    "number of connections; every connection is a new TCP connection to --tcp.",
    "",
    "  derptun serve --token-file server.dts --tcp 127.0.0.1:22",
    "  derptun serve --token-file server.dts --udp 127.0.0.1:51820",
    ""})
final class DerptunServeCommand implements Callable<Integer> {
  @ParentCommand
  DerptunCommand global;

  @Mixin
  TunnelTokenSource source;

  @Option(names = "--tcp", paramLabel = "HOST:PORT", description = "The TCP service to forward to, e.g. 127.0.0.1:22.")
  String tcp;

  @Option(names = "--udp", paramLabel = "HOST:PORT", description = "The UDP service to forward to, e.g. "
      + "127.0.0.1:51820; alone or beside --tcp. Each client flow gets a socket of its own.")
  String udp;

  @Mixin
  DerptunUdpOptions udpOptions;

  @Mixin
  ForceRelay forceRelay;

  @Mixin
  QrOption qr;

  @Option(names = "--max-connections", paramLabel = "N", description = "Client connections at once, in all "
      + "(default: ${DEFAULT-VALUE}); more claims are dropped until one ends.")
  int maxConnections = TunnelServer.Limits.DEFAULT.legs();

  @Option(names = "--max-connections-per-client", paramLabel = "N", description = "Connections at once for one "
      + "client token (default: ${DEFAULT-VALUE}).")
  int maxPerClient = TunnelServer.Limits.DEFAULT.legsPerClient();

  @Override
  public Integer call() throws Exception {
    if (tcp == null && udp == null) {
      throw new Launcher.UsageException("give the service to forward to: --tcp HOST:PORT, --udp HOST:PORT or both");
    }
    InetSocketAddress target = null;
    try {
      if (tcp != null) {
        InetSocketAddress parsed = HostPort.parse(tcp, "127.0.0.1");
        if (parsed.getPort() == 0) {
          throw new IllegalArgumentException("--tcp needs a port, e.g. 127.0.0.1:22");
        }
        target = InetSocketAddress.createUnresolved(parsed.getHostString(), parsed.getPort());
      }
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException("--tcp: " + e.getMessage());
    }
    InetSocketAddress udpTarget = udp == null ? null : UdpServe.target(udp);
    UdpLimits udpLimits = udpOptions.limits();
    TunnelServer.Limits limits;
    try {
      limits = new TunnelServer.Limits(maxPerClient, maxConnections);
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException("--max-connections and --max-connections-per-client must be at least 1");
    }
    ServerToken token;
    try {
      token = source.server("derptun serve");
    } catch (TokenException e) {
      throw new SessionException(e.getMessage());
    }
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced)) {
      Reporter r = setup.options.reporter();
      ChannelHandler streams = target == null ? NoTcpService.INSTANCE : new ShareServer(target, events(r)).streamHandler();
      UdpTarget udpForward = udpTarget == null ? null : new UdpTarget(udpTarget, udpLimits, r, setup.group);
      CountDownLatch stop = new CountDownLatch(1);
      try (TunnelServer server = TunnelServer.start(token, setup.options, streams, limits,
          udpForward == null ? q -> { } : udpForward::attach)) {
        System.err.println("serving " + UdpServe.services(tcp, udp) + " to derptun clients; the token expires "
            + token.expires());
        System.err.flush();
        if (qr.on) {
          ClientToken client = DerptunTokenCommand.defaultClient(token, Instant.now());
          qr.show("A new client token for `derptun open`, valid until " + client.expires() + ":"
              + System.lineSeparator() + client.encode(), client.encode());
        }
        Thread hook = new Thread(() -> {
          stop.countDown();
          server.close();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        long left = Duration.between(Instant.now(), token.expires()).toMillis();
        if (stop.await(Math.max(0, left), TimeUnit.MILLISECONDS)) {
          return Launcher.OK;
        }
        Runtime.getRuntime().removeShutdownHook(hook);
        throw new SessionException("the server token expired; make a new one with `derptun token server`");
      }
    }
  }

  /** Connection events for --verbose. */
  static ConnectionEvents events(Reporter r) {
    return new ConnectionEvents() {
      @Override
      public void opened(int open) {
        r.event("connection-opened", "(" + open + " open)");
      }

      @Override
      public void closed(int open) {
        r.event("connection-closed", "(" + open + " open)");
      }

      @Override
      public void refused(String why) {
        r.event("connection-refused", why);
      }
    };
  }
}
