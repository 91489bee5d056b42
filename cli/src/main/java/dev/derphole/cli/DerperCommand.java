package dev.derphole.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.derphole.derp.io.EventLoops;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpNode;
import dev.derphole.derp.net.IpLiteral;
import dev.derphole.derp.server.DerpServer;
import dev.derphole.derp.server.DerpServerConfig;
import dev.derphole.derp.stun.StunServer;
import dev.derphole.derp.tls.DerpTls;
import dev.derphole.derp.tls.SelfSignedCertificate;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code derper}: a DERP relay and STUN server, wire-compatible with Tailscale's. */
@Command(name = "derper", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
    usageHelpWidth = 100,
    description = {
        "Run a DERP relay (Tailscale's relay protocol) and a STUN server.",
        "For derphole, derptun and Tailscale clients. Without --cert/--key it serves TLS with a fresh",
        "self-signed certificate; clients pin it through the CertName in the DERP map it prints",
        "(--print-derp-map).",
        "",
        "Examples:",
        "  derper --dev                                   plain HTTP on 127.0.0.1:3340, STUN on 3478",
        "  derper --listen :8443 --hostname relay.example.com --derp-map-out relay.json",
        "  derper --listen :443 --cert fullchain.pem --key privkey.pem --hostname relay.example.com",
        ""})
final class DerperCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  OutputOptions output;

  @Option(names = "--dev", description = "Development mode: plain HTTP on 127.0.0.1:3340 and STUN on 127.0.0.1:3478, unless --listen/--stun-port say otherwise.")
  boolean dev;

  @Option(names = {"-a", "--listen"}, paramLabel = "ADDR", description = "TCP address for DERP: host:port, :port or port (default :443; 127.0.0.1:3340 with --dev; port 0 picks a free one).")
  String listen;

  @Option(names = "--stun-port", paramLabel = "PORT", description = "UDP port for STUN on the listen host (default 3478; -1 turns STUN off; 0 picks a free one).")
  Integer stunPort;

  @Option(names = "--stun-port2", paramLabel = "PORT", description = "A second UDP port for STUN (0 picks a free one), in the DERP map as a STUN-only node, so that `derphole netcheck` can tell an endpoint-dependent NAT from an independent one with this relay alone.")
  Integer stunPort2;

  @Option(names = "--hostname", paramLabel = "NAME", description = "Name clients use: TLS certificate name and the DERP map's HostName (default: the listen host, or 127.0.0.1).")
  String hostname;

  @Option(names = "--cert", paramLabel = "FILE", description = "PEM certificate chain; needs --key.")
  File cert;

  @Option(names = "--key", paramLabel = "FILE", description = "PEM private key (PKCS#8) for --cert.")
  File key;

  @Option(names = "--plain-http", description = "Serve plain HTTP instead of TLS (implied by --dev). Only for trusted networks.")
  boolean plainHttp;

  @Option(names = "--key-file", paramLabel = "FILE", description = "Keep the relay's node key here ({\"PrivateKey\":\"privkey:…\"}, created 0600 if missing). Default: a new key each start.")
  Path keyFile;

  @Option(names = "--rate-limit", paramLabel = "BYTES_PER_SEC", description = "Per-client rate limit on what each client sends, in bytes per second as Tailscale's derper counts it (0 = off). Advertised to clients in ServerInfo.")
  long rateLimit;

  @Option(names = "--rate-burst", paramLabel = "BYTES", description = "Burst for --rate-limit, in bytes (at least 65568, one largest frame; default: one second's worth, at least 65568).")
  long rateBurst;

  @Option(names = "--sender-pause-limit-ms", paramLabel = "MS", description = "Backpressure for senders without congestion control: how long a sender may go unread while its destination's queue drains; after that the destination's packets are dropped when its queue is full. 0 (the default) always drops, which is what QUIC over the relay needs; 2000 is a reasonable limit otherwise.")
  long senderPauseLimitMs = DerpServerConfig.DEFAULT_SENDER_PAUSE_LIMIT.toMillis();

  @Option(names = "--max-conns-per-ip", paramLabel = "N", description = "Connections held at once from one IPv4 address or IPv6 /64, verified or not; more are closed at accept (default ${DEFAULT-VALUE}).")
  int maxConnsPerIp = DerpServerConfig.DEFAULT_MAX_CONNECTIONS_PER_IP;

  @Option(names = "--idle-timeout-ms", paramLabel = "MS", description = "A client that says nothing for half this long gets a Ping, and is closed if it has answered nothing when all of it has passed; clients that cannot answer pings are never closed for silence. 0 = off (default ${DEFAULT-VALUE}).")
  long idleTimeoutMs = DerpServerConfig.DEFAULT_IDLE_TIMEOUT.toMillis();

  @Option(names = "--write-timeout-ms", paramLabel = "MS", description = "Close a client whose socket stays full (it does not read) this long. 0 = off (default ${DEFAULT-VALUE}).")
  long writeTimeoutMs = DerpServerConfig.DEFAULT_WRITE_TIMEOUT.toMillis();

  @Option(names = "--region-id", paramLabel = "ID", description = "Region ID in the printed DERP map (default ${DEFAULT-VALUE}).")
  int regionId = 900;

  @Option(names = "--region-code", paramLabel = "CODE", description = "Region code in the printed DERP map (default ${DEFAULT-VALUE}).")
  String regionCode = "derphole";

  @Option(names = "--print-derp-map", description = "Once listening, print the one-region DERP map JSON that points at this relay to stdout.")
  boolean printDerpMap;

  @Option(names = "--derp-map-out", paramLabel = "FILE", description = "Once listening, write that DERP map JSON to FILE (handy with port 0).")
  Path derpMapOut;

  @Option(names = "--mesh-with", split = ",", paramLabel = "HOST:PORT", description = "The other relays of this region, meshed as Tailscale's derpers are: each is dialed (and redialed) with the mesh key, and packets for their clients are forwarded there. An entry naming this relay itself is skipped, so every node can run the same command line. Needs a mesh key.")
  List<String> meshWith = new ArrayList<>();

  @Option(names = "--mesh-psk-file", paramLabel = "FILE", description = "The region's mesh key, 64 hex characters (openssl rand -hex 32), shared by its relays; without it, " + MeshFlags.KEY_ENV + " is read. A client presenting it is a mesh peer.")
  Path meshPskFile;

  @Option(names = "--max-conns", paramLabel = "N", description = "Connections held at once, verified or not (default ${DEFAULT-VALUE}).")
  int maxConns = 10_000;

  @Option(names = "--handshake-timeout-ms", paramLabel = "MS", hidden = true, description = "Time a client has to finish the DERP handshake.")
  long handshakeTimeoutMs = 10_000;

  private final CountDownLatch stopped = new CountDownLatch(1);

  public static void main(String[] args) {
    System.exit(Launcher.run(new DerperCommand(), "derper", Level.INFO, args));
  }

  @Override
  public Integer call() throws Exception {
    // Every flag is checked before anything happens (a key file created, a port bound).
    InetSocketAddress bind = checkFlags();
    boolean plain = plainHttp || dev;
    int stun = stunPort != null ? stunPort : 3478;
    String name = hostname != null ? hostname : defaultHostName(bind);

    String meshKey = MeshFlags.key(meshPskFile, System.getenv(MeshFlags.KEY_ENV));
    if (!meshWith.isEmpty() && meshKey.isEmpty()) {
      throw new Launcher.UsageException("--mesh-with needs a mesh key: --mesh-psk-file FILE or " + MeshFlags.KEY_ENV);
    }
    NodePrivateKey nodeKey = keyFile != null ? loadOrCreateKey(keyFile) : NodePrivateKey.generate();
    Tls tls = plain ? new Tls(null, "") : tls(name, bind);
    EventLoops.choice().warning().ifPresent(w -> Stderr.errors().println("derper: " + w));
    DerpServer server;
    try {
      server = DerpServer.start(serverConfig(nodeKey, bind, tls.context()).meshKey(meshKey).build());
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException(e.getMessage());
    }
    EventLoopGroup stunGroup = null;
    StunServer stunServer = null;
    try {
      if (stun >= 0) {
        stunGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        stunServer = startStun(bind, stun, stunGroup);
      }
      // The second STUN port lives on stunGroup, whose shutdown closes it too.
      int stun2At = stunPort2 == null ? -1 : SecondStun.start(bind, stunPort2, stunGroup);
      List<MeshFlags.Peer> peers = MeshFlags.peers(meshWith, name, server.localAddress().getPort());
      for (MeshFlags.Peer p : peers) {
        server.addMeshPeer(p.endpoint(plain));
      }
      announce(server, stunServer, stun2At, nodeKey, name, bind, plain, tls.certName(), peers);
      awaitShutdown(server, stunServer, stunGroup);
      return Launcher.OK;
    } catch (IOException | RuntimeException e) {
      stop(server, stunServer, stunGroup);
      throw e;
    }
  }

  /** Checks every flag against the others; returns the address to listen on. */
  private InetSocketAddress checkFlags() {
    if ((cert == null) != (key == null)) {
      throw new Launcher.UsageException("--cert and --key go together");
    }
    boolean plain = plainHttp || dev;
    if (plain && cert != null) {
      throw new Launcher.UsageException("--cert/--key make no sense with plain HTTP (--dev or --plain-http)");
    }
    if (cert != null) {
      requireReadable("--cert", cert);
      requireReadable("--key", key);
    }
    InetSocketAddress bind;
    try {
      bind = HostPort.parse(listen != null ? listen : (dev ? "127.0.0.1:3340" : ":443"), null);
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException("--listen: " + e.getMessage());
    }
    int stun = stunPort != null ? stunPort : 3478;
    if (stun < -1 || stun > 65535) {
      throw new Launcher.UsageException("--stun-port must be -1..65535, got " + stun);
    }
    if (stunPort2 != null && (stunPort2 < 0 || stunPort2 > 65535 || stun == -1)) {
      throw new Launcher.UsageException("--stun-port2 must be 0..65535 and needs STUN on (--stun-port), got " + stunPort2);
    }
    if (rateLimit < 0) {
      throw new Launcher.UsageException("--rate-limit must be >= 0 bytes/s (0 = off), got " + rateLimit);
    }
    if (rateBurst != 0 && rateLimit == 0) {
      throw new Launcher.UsageException("--rate-burst needs --rate-limit");
    }
    if (rateBurst != 0 && rateBurst < DerpServerConfig.MIN_RATE_BURST) {
      throw new Launcher.UsageException("--rate-burst must be at least " + DerpServerConfig.MIN_RATE_BURST + " bytes (one largest frame), got " + rateBurst);
    }
    if (senderPauseLimitMs < 0) {
      throw new Launcher.UsageException("--sender-pause-limit-ms must be >= 0, got " + senderPauseLimitMs);
    }
    if (maxConns < 1) {
      throw new Launcher.UsageException("--max-conns must be at least 1, got " + maxConns);
    }
    if (maxConnsPerIp < 1) {
      throw new Launcher.UsageException("--max-conns-per-ip must be at least 1, got " + maxConnsPerIp);
    }
    if (idleTimeoutMs < 0) {
      throw new Launcher.UsageException("--idle-timeout-ms must be >= 0 (0 = off), got " + idleTimeoutMs);
    }
    if (writeTimeoutMs < 0) {
      throw new Launcher.UsageException("--write-timeout-ms must be >= 0 (0 = off), got " + writeTimeoutMs);
    }
    if (regionId < 1) {
      throw new Launcher.UsageException("--region-id must be positive, got " + regionId);
    }
    if (regionCode.isBlank()) {
      throw new Launcher.UsageException("--region-code must not be empty");
    }
    if (handshakeTimeoutMs < 1) {
      throw new Launcher.UsageException("--handshake-timeout-ms must be positive, got " + handshakeTimeoutMs);
    }
    return bind;
  }

  /** The TLS server context and, for a self-signed certificate, the CertName that pins it. */
  private record Tls(SslContext context, String certName) {}

  private Tls tls(String name, InetSocketAddress bind) throws Exception {
    if (cert != null) {
      return new Tls(DerpTls.server(cert, key), "");
    }
    List<String> names = new ArrayList<>(List.of(name));
    if (!bind.getAddress().isAnyLocalAddress() && !names.contains(bind.getAddress().getHostAddress())) {
      names.add(bind.getAddress().getHostAddress());
    }
    SelfSignedCertificate self = SelfSignedCertificate.generate(names);
    return new Tls(DerpTls.server(self.keyPair().getPrivate(), self.certificate()), self.certName());
  }

  private DerpServerConfig.Builder serverConfig(NodePrivateKey nodeKey, InetSocketAddress bind, SslContext ssl) {
    DerpServerConfig.Builder config = DerpServerConfig.builder()
        .privateKey(nodeKey)
        .listen(bind)
        .tls(ssl)
        .handshakeTimeout(java.time.Duration.ofMillis(handshakeTimeoutMs));
    config.senderPauseLimit(java.time.Duration.ofMillis(senderPauseLimitMs))
        .maxConnectionsPerIp(maxConnsPerIp)
        .maxConnections(maxConns)
        .idleTimeout(java.time.Duration.ofMillis(idleTimeoutMs))
        .writeTimeout(java.time.Duration.ofMillis(writeTimeoutMs));
    if (rateLimit > 0) {
      config.rateLimit(rateLimit, rateBurst > 0 ? rateBurst : Math.max(rateLimit, DerpServerConfig.MIN_RATE_BURST));
    }
    return config;
  }

  private static StunServer startStun(InetSocketAddress bind, int stun, EventLoopGroup stunGroup) throws IOException {
    try {
      return StunServer.start(new InetSocketAddress(bind.getAddress(), stun), stunGroup);
    } catch (Exception e) {
      throw new IOException("cannot listen for STUN on udp port " + stun + ": " + Launcher.oneLine(e), e);
    }
  }

  /** The start-up line on stderr, then the DERP map to --derp-map-out and (--print-derp-map) stdout. */
  private void announce(DerpServer server, StunServer stunServer, int stun2At, NodePrivateKey nodeKey, String name,
      InetSocketAddress bind, boolean plain, String certName, List<MeshFlags.Peer> peers) throws IOException {
    InetSocketAddress at = server.localAddress();
    int stunAt = stunServer != null ? stunServer.localAddress().getPort() : -1;
    DerpNode node = new DerpNode(regionId + "a", regionId, name, certName, literal(bind, Inet4Address.class),
        literal(bind, Inet6Address.class), stunAt == -1 ? DerpNode.NO_STUN : stunAt, false, at.getPort(), false,
        false, plain);
    String mapJson = SecondStun.map(regionId, regionCode,
        peers.isEmpty() ? List.of(node) : MeshFlags.regionNodes(node, peers), stun2At).toJson();
    // One write (printf would write, and flush, piece by piece), and before the map file: whoever
    // waits for the map finds the whole line already there.
    PrintStream err = System.err;
    err.print(String.format("derper %s: DERP on %s://%s:%d/derp (%s), STUN %s, node key %s%n", Version.get(),
        plain ? "http" : "https", name, at.getPort(),
        plain ? "plain HTTP" : (cert != null ? "TLS" : "TLS, self-signed, CertName " + certName),
        stunAt == -1 ? "off" : "on udp port " + stunAt + (stun2At == -1 ? "" : " and " + stun2At), nodeKey.publicKey()));
    if ((derpMapOut != null || printDerpMap) && node.ipv4().isEmpty() && node.ipv6().isEmpty()
        && IpLiteral.parse(name).isEmpty()) {
      // Listening on every address: which of the host's addresses clients can reach is not ours to guess.
      err.print("derper: the map's IPv4 and IPv6 are empty (--listen is every address): clients look up "
          + name + " in DNS; give --listen an address, or write the relay's addresses into the map's IPv4/IPv6"
          + System.lineSeparator());
    }
    err.flush();
    if (derpMapOut != null) {
      writeAtomically(derpMapOut, mapJson);
    }
    if (printDerpMap) {
      System.out.println(mapJson);
      System.out.flush();
    }
  }

  /** Serves until the process is told to stop, then closes everything. */
  private void awaitShutdown(DerpServer server, StunServer stunServer, EventLoopGroup stunGroup) throws InterruptedException {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop(server, stunServer, stunGroup);
      stopped.countDown();
    }, "derper-shutdown"));
    stopped.await();
  }

  private static void stop(DerpServer server, StunServer stunServer, EventLoopGroup stunGroup) {
    if (stunServer != null) {
      stunServer.close();
    }
    server.close();
    if (stunGroup != null) {
      stunGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private static void requireReadable(String flag, File f) {
    if (!f.isFile()) {
      throw new Launcher.UsageException(flag + " " + f + ": " + (f.exists() ? "not a regular file" : "no such file or directory"));
    }
    if (!f.canRead()) {
      throw new Launcher.UsageException(flag + " " + f + ": permission denied");
    }
  }

  private static String defaultHostName(InetSocketAddress bind) {
    InetAddress a = bind.getAddress();
    return a == null || a.isAnyLocalAddress() ? "127.0.0.1" : a.getHostAddress();
  }

  private static String literal(InetSocketAddress bind, Class<? extends InetAddress> family) {
    InetAddress a = bind.getAddress();
    return a != null && !a.isAnyLocalAddress() && family.isInstance(a) ? a.getHostAddress() : "";
  }

  /** Reads derper's key file format, or creates it (0600) with a new key. */
  static NodePrivateKey loadOrCreateKey(Path file) throws IOException {
    try {
      JsonNode json = new ObjectMapper().readTree(Files.readString(file));
      JsonNode k = json == null ? null : json.get("PrivateKey");
      if (k == null || !k.isTextual()) {
        throw new IOException("key file " + file + " has no \"PrivateKey\"");
      }
      try {
        return NodePrivateKey.parse(k.asText());
      } catch (IllegalArgumentException e) {
        throw new IOException("key file " + file + ": " + e.getMessage());
      }
    } catch (NoSuchFileException e) {
      NodePrivateKey fresh = NodePrivateKey.generate();
      Path dir = file.toAbsolutePath().getParent();
      Path tmp = null;
      try {
        tmp = Files.createTempFile(dir, ".derper-key", ".tmp", OwnerOnly.file(dir));
        Files.writeString(tmp, "{\"PrivateKey\":\"" + fresh.toText() + "\"}\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException writeFailed) {
        if (tmp != null) {
          Files.deleteIfExists(tmp);
        }
        String why = writeFailed instanceof NoSuchFileException && tmp == null ? dir + ": no such directory"
            : Launcher.oneLine(writeFailed);
        throw new IOException("cannot create key file " + file + ": " + why, writeFailed);
      }
      return fresh;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException("key file " + file + " is not valid JSON");
    }
  }

  private static void writeAtomically(Path file, String content) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(dir, ".derp-map", ".tmp");
    Files.write(tmp, content.getBytes(StandardCharsets.UTF_8));
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
