package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The one jar runs on every platform Netty's QUIC supports: {@code cli/target/derphole.jar}
 * carries quiche, BoringSSL for the relay's TLS (tcnative), epoll and kqueue for linux-x86_64,
 * linux-aarch_64, osx-x86_64, osx-aarch_64 and windows-x86_64 where each exists, under the names
 * Netty's loader looks for, and each file is a shared library for the system and processor its
 * name says (read from its ELF, Mach-O or PE header). The classes that drive kqueue ride along too.
 */
class JarNativesIT {
  /** Entry under META-INF/native/ → what its header must say. */
  static final Map<String, String> NATIVES = new TreeMap<>(Map.ofEntries(
      Map.entry("libnetty_quiche42_linux_x86_64.so", "ELF x86-64"),
      Map.entry("libnetty_quiche42_linux_aarch_64.so", "ELF aarch64"),
      Map.entry("libnetty_quiche42_osx_x86_64.jnilib", "Mach-O x86-64"),
      Map.entry("libnetty_quiche42_osx_aarch_64.jnilib", "Mach-O arm64"),
      Map.entry("netty_quiche42_windows_x86_64.dll", "PE x86-64"),
      Map.entry("libnetty_tcnative_linux_x86_64.so", "ELF x86-64"),
      Map.entry("libnetty_tcnative_linux_aarch_64.so", "ELF aarch64"),
      Map.entry("libnetty_tcnative_osx_x86_64.jnilib", "Mach-O x86-64"),
      Map.entry("libnetty_tcnative_osx_aarch_64.jnilib", "Mach-O arm64"),
      Map.entry("netty_tcnative_windows_x86_64.dll", "PE x86-64"),
      Map.entry("libnetty_transport_native_epoll_x86_64.so", "ELF x86-64"),
      Map.entry("libnetty_transport_native_epoll_aarch_64.so", "ELF aarch64"),
      Map.entry("libnetty_transport_native_kqueue_x86_64.jnilib", "Mach-O x86-64"),
      Map.entry("libnetty_transport_native_kqueue_aarch_64.jnilib", "Mach-O arm64")));

  @Test
  void theJarHoldsEveryPlatformsNativesEachBuiltForThePlatformItsNameSays() throws IOException {
    try (JarFile jar = new JarFile(Processes.root().resolve("cli/target/derphole.jar").toFile())) {
      Map<String, String> found = new TreeMap<>();
      for (JarEntry e : java.util.Collections.list(jar.entries())) {
        if (e.getName().startsWith("META-INF/native/") && !e.isDirectory()) {
          try (InputStream in = jar.getInputStream(e)) {
            found.put(e.getName().substring("META-INF/native/".length()), kind(in.readNBytes(4096)));
          }
        }
      }
      assertThat(found).isEqualTo(NATIVES);
      for (String c : new String[] {"io/netty/channel/kqueue/KQueue.class", "io/netty/channel/epoll/Epoll.class",
          "io/netty/handler/codec/quic/Quic.class", "io/netty/internal/tcnative/SSL.class"}) {
        assertThat(jar.getJarEntry(c)).as(c).isNotNull();
      }
    }
  }

  /** "ELF x86-64", "Mach-O arm64", "PE x86-64" and so on, from a shared library's first bytes. */
  static String kind(byte[] head) {
    ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
    if (head.length > 20 && b.getInt(0) == 0x464c457f) { // \x7fELF
      String machine = switch (b.getShort(18)) {
        case 0x3e -> "x86-64";
        case 0xb7 -> "aarch64";
        default -> "machine " + b.getShort(18);
      };
      return (head[4] == 2 ? "ELF " : "ELF 32-bit ") + machine;
    }
    if (head.length > 8 && b.getInt(0) == 0xfeedfacf) { // 64-bit Mach-O, little-endian
      return switch (b.getInt(4)) {
        case 0x01000007 -> "Mach-O x86-64";
        case 0x0100000c -> "Mach-O arm64";
        default -> "Mach-O cpu " + Integer.toHexString(b.getInt(4));
      };
    }
    if (head.length > 0x40 && head[0] == 'M' && head[1] == 'Z') {
      int pe = b.getInt(0x3c);
      if (pe > 0 && pe + 6 <= head.length && b.getInt(pe) == 0x00004550) { // "PE\0\0"
        return (b.getShort(pe + 4) & 0xffff) == 0x8664 ? "PE x86-64" : "PE machine " + Integer.toHexString(b.getShort(pe + 4) & 0xffff);
      }
    }
    return "unknown";
  }
}
