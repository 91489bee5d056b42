package dev.derphole.cli;

import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.map.DerpNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * derper's mesh settings: the other relays of the region ({@code --mesh-with}) and the region's
 * key ({@code --mesh-psk-file}, or Tailscale's {@code TAILSCALE_DERPER_MESH_KEY}), as Tailscale's
 * derper reads them, and the region map that lists every node of the mesh.
 */
final class MeshFlags {
  /** Tailscale's derper reads the mesh key from this variable when no file is given. */
  static final String KEY_ENV = "TAILSCALE_DERPER_MESH_KEY";

  /** One relay of the region as given on the command line. */
  record Peer(String host, int port) {
    String hostPort() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    DerpEndpoint endpoint(boolean plain) {
      return DerpEndpoint.of(URI.create((plain ? "http://" : "https://") + hostPort() + "/derp"));
    }
  }

  private MeshFlags() {}

  /** {@code HOST:PORT,...}, without the entry that names this relay itself (one command line fits every node). */
  static List<Peer> peers(List<String> meshWith, String selfHost, int selfPort) {
    List<Peer> out = new ArrayList<>();
    for (String entry : meshWith) {
      String e = entry.trim();
      if (e.isEmpty()) {
        continue;
      }
      int colon = e.lastIndexOf(':');
      if (colon <= 0 || colon == e.length() - 1) {
        throw new Launcher.UsageException("--mesh-with: " + e + " is not HOST:PORT");
      }
      String host = e.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      int port;
      try {
        port = Integer.parseInt(e.substring(colon + 1));
      } catch (NumberFormatException x) {
        throw new Launcher.UsageException("--mesh-with: " + e + " has no port number");
      }
      if (port < 1 || port > 65535) {
        throw new Launcher.UsageException("--mesh-with: port " + port + " is not 1..65535");
      }
      if (!(host.equalsIgnoreCase(selfHost) && port == selfPort)) {
        out.add(new Peer(host, port));
      }
    }
    return out;
  }

  /** The region's mesh key: from {@code file}, else the environment; empty when neither is set. */
  static String key(Path file, String fromEnv) throws IOException {
    String raw;
    String where;
    if (file != null) {
      try {
        raw = Files.readString(file);
      } catch (NoSuchFileException e) {
        throw new IOException("--mesh-psk-file " + file + ": no such file");
      }
      where = "--mesh-psk-file " + file;
    } else if (fromEnv != null && !fromEnv.isBlank()) {
      raw = fromEnv;
      where = KEY_ENV;
    } else {
      return "";
    }
    String k = raw.trim().toLowerCase(Locale.ROOT);
    if (!k.matches("[0-9a-f]{64}")) {
      throw new IOException(where + ": a mesh key is 64 hex characters (try: openssl rand -hex 32)");
    }
    return k;
  }

  /**
   * Every node of the region, this one and its peers, sorted by host and port so that every relay
   * of the mesh writes the same map (clients take its nodes in order). A peer is described as this
   * relay is (same transport and STUN port); its CertName is unknown here, so a fleet that clients
   * reach over TLS needs certificates they trust.
   */
  static List<DerpNode> regionNodes(DerpNode self, List<Peer> peers) {
    List<DerpNode> all = new ArrayList<>();
    all.add(self);
    for (Peer p : peers) {
      boolean v4 = p.host().matches("[0-9.]+");
      boolean v6 = p.host().contains(":");
      all.add(new DerpNode("", self.regionId(), p.host(), "", v4 ? p.host() : "", v6 ? p.host() : "",
          self.stunPort(), false, p.port(), false, false, self.plainHttp()));
    }
    all.sort(Comparator.comparing((DerpNode n) -> n.hostName()).thenComparingInt(DerpNode::derpPort));
    List<DerpNode> named = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      DerpNode n = all.get(i);
      named.add(new DerpNode(self.regionId() + String.valueOf((char) ('a' + i)), n.regionId(), n.hostName(), n.certName(),
          n.ipv4(), n.ipv6(), n.stunPort(), n.stunOnly(), n.derpPort(), n.insecureForTests(), n.canPort80(), n.plainHttp()));
    }
    return named;
  }
}
