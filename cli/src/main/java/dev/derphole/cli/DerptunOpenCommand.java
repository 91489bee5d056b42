package dev.derphole.cli;

import dev.derphole.derp.net.IpLiteral;
import dev.derphole.session.SessionException;
import dev.derphole.session.share.OpenListener;
import dev.derphole.session.tunnel.ClientToken;
import dev.derphole.session.tunnel.TunnelClient;
import dev.derphole.session.token.TokenException;
import dev.derphole.session.tunnel.udp.UdpLimits;
import dev.derphole.session.tunnel.udp.UdpListener;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code derptun open}: a local listener whose every connection goes through the tunnel. */
@Command(name = "open", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Listen locally and carry every connection through the tunnel to the server.",
    "Runs until stopped, reconnecting whenever the tunnel drops. Prints `listening on ADDR` on stderr",
    "once the tunnel is up (or after 20 s if the server cannot be reached yet; it keeps trying).",
    "",
    "  derptun open --token-file client.dtc --listen 127.0.0.1:2222 &  ssh -p 2222 me@127.0.0.1",
    "  derptun open --token-file client.dtc --udp 127.0.0.1:51820    # prints: listening on udp ADDR",
    ""})
final class DerptunOpenCommand implements Callable<Integer> {
  /** How long open waits for its first connection before it listens anyway (the server may be down). */
  static final Duration FIRST_CONNECTION = Duration.ofSeconds(20);

  @ParentCommand
  DerptunCommand global;

  @Mixin
  TunnelTokenSource source;

  @Option(names = "--listen", paramLabel = "ADDR",
      description = "Local TCP address to listen on (default 127.0.0.1:0, any free port, unless only --udp is given).")
  String listen;

  @Option(names = "--udp", paramLabel = "ADDR", description = "Local UDP address to listen on (port 0: any free "
      + "port); every client address sending to it is a flow to the server's --udp service.")
  String udp;

  @Mixin
  DerptunUdpOptions udpOptions;

  @Mixin
  ForceRelay forceRelay;

  @Override
  public Integer call() throws Exception {
    InetSocketAddress address = null;
    try {
      if (listen != null || udp == null) {
        address = HostPort.parse(listen == null ? "127.0.0.1:0" : listen, "127.0.0.1");
      }
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException("--listen: " + e.getMessage());
    }
    InetSocketAddress udpAddress;
    try {
      udpAddress = udp == null ? null : HostPort.parse(udp, "127.0.0.1");
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException("--udp: " + e.getMessage());
    }
    UdpLimits udpLimits = udpOptions.limits();
    ClientToken token;
    try {
      token = source.client("derptun open");
    } catch (TokenException e) {
      throw new SessionException(e.getMessage());
    }
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced)) {
      OpenListener listener = null;
      UdpListener udpListener = null;
      try {
        if (address != null) {
          listener = OpenListener.bind(setup.group, address, OpenListener.DEFAULT_MAX_CONNECTIONS,
              DerptunServeCommand.events(setup.options.reporter()));
        }
        if (udpAddress != null) {
          udpListener = UdpListener.bind(setup.group, udpAddress, udpLimits, setup.options.reporter());
        }
      } catch (IOException e) {
        if (listener != null) {
          listener.close();
        }
        throw new SessionException(e.getMessage(), e);
      }
      OpenListener tcpListener = listener;
      UdpListener datagrams = udpListener;
      try (tcpListener; datagrams; TunnelClient client = new TunnelClient(token, setup.options).onConnected(q -> {
        if (tcpListener != null) {
          tcpListener.use(q);
        }
        if (datagrams != null) {
          datagrams.use(q);
        }
      }).start()) {
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          stopping.set(true);
          client.close();
        }));
        QuicChannel quic = null;
        try {
          quic = client.awaitConnection(FIRST_CONNECTION);
        } catch (SessionException e) {
          if (client.refused()) {
            throw e; // the server said no: nothing will change by waiting
          }
        }
        if (tcpListener != null) {
          tcpListener.acceptWhileDown(); // the tunnel may still be down: a connection is then closed at once
          Stderr.output().println("listening on " + IpLiteral.format(tcpListener.localAddress()));
        }
        if (datagrams != null) {
          Stderr.output().println("listening on udp " + IpLiteral.format(datagrams.localAddress()));
        }
        Stderr.output().flush();
        // The client moves the listener to each new connection; this thread only waits for a refusal.
        while (true) {
          if (quic == null) {
            try {
              quic = client.awaitConnection(Duration.ofDays(365));
            } catch (SessionException e) {
              if (stopping.get()) {
                return Launcher.OK; // closed by a signal on the way out: not an error to report
              }
              throw e;
            }
          }
          quic.closeFuture().await();
          quic = null;
        }
      }
    }
  }
}
