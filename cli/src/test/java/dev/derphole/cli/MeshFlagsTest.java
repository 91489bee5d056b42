package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.derp.map.DerpNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshFlagsTest {
  static final String KEY = "6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8";

  @Test
  void theEntryNamingThisRelayIsSkippedSoOneCommandLineFitsEveryNode() {
    List<MeshFlags.Peer> peers = MeshFlags.peers(List.of("r1.example:443", "r2.example:443", "[2001:db8::3]:8443"), "r1.example", 443);
    assertThat(peers).containsExactly(new MeshFlags.Peer("r2.example", 443), new MeshFlags.Peer("2001:db8::3", 8443));
    assertThat(peers.get(1).endpoint(true).uri().toString()).isEqualTo("http://[2001:db8::3]:8443/derp");
    assertThat(peers.get(0).endpoint(false).uri().toString()).isEqualTo("https://r2.example/derp");
  }

  @Test
  void entriesWithoutAPortAreUsageErrors() {
    assertThatThrownBy(() -> MeshFlags.peers(List.of("r2.example"), "r1", 443))
        .isInstanceOf(Launcher.UsageException.class).hasMessage("--mesh-with: r2.example is not HOST:PORT");
    assertThatThrownBy(() -> MeshFlags.peers(List.of("r2.example:99999"), "r1", 443))
        .isInstanceOf(Launcher.UsageException.class).hasMessageContaining("not 1..65535");
  }

  @Test
  void theKeyComesFromTheFileElseTheEnvironmentAndMustBe64Hex(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("mesh.key"), KEY.toUpperCase() + "\n");
    assertThat(MeshFlags.key(file, "ignored")).isEqualTo(KEY);
    assertThat(MeshFlags.key(null, KEY)).isEqualTo(KEY);
    assertThat(MeshFlags.key(null, null)).isEmpty();
    assertThatThrownBy(() -> MeshFlags.key(null, "abcdefg")).hasMessageContaining(MeshFlags.KEY_ENV)
        .hasMessageContaining("64 hex characters");
    assertThatThrownBy(() -> MeshFlags.key(dir.resolve("missing"), null)).hasMessageContaining("no such file");
  }

  @Test
  void everyRelayOfTheMeshWritesTheSameNodesInTheSameOrder() {
    DerpNode one = new DerpNode("900a", 900, "r2.example", "", "", "", 3478, false, 443, false, false, false);
    DerpNode two = new DerpNode("900a", 900, "r1.example", "", "", "", 3478, false, 443, false, false, false);
    List<DerpNode> fromR2 = MeshFlags.regionNodes(one, List.of(new MeshFlags.Peer("r1.example", 443), new MeshFlags.Peer("r3.example", 443)));
    List<DerpNode> fromR1 = MeshFlags.regionNodes(two, List.of(new MeshFlags.Peer("r3.example", 443), new MeshFlags.Peer("r2.example", 443)));
    assertThat(fromR2).isEqualTo(fromR1);
    assertThat(fromR1).extracting(DerpNode::name).containsExactly("900a", "900b", "900c");
    assertThat(fromR1).extracting(DerpNode::hostName).containsExactly("r1.example", "r2.example", "r3.example");
  }
}
