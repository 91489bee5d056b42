package dev.derphole.derp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ProxyConfigTest {
  private static final String RELAY = "derp1.tailscale.com";

  private static Optional<ProxyConfig.Proxy> https(Map<String, String> env, String host, int port) {
    return ProxyConfig.fromEnvironment(env).forTarget(true, host, port);
  }

  @Test
  void nothingSetMeansDirect() {
    assertThat(https(Map.of(), RELAY, 443)).isEmpty();
    assertThat(ProxyConfig.fromEnvironment(Map.of()).isEmpty()).isTrue();
  }

  @Test
  void httpsProxyWithCredentialsIsParsedAndThePasswordNeverShows() {
    ProxyConfig.Proxy p = https(Map.of("HTTPS_PROXY", "http://alice:s%3Acret@proxy.corp:3128"), RELAY, 443).orElseThrow();
    assertThat(p.host()).isEqualTo("proxy.corp");
    assertThat(p.port()).isEqualTo(3128);
    assertThat(p.user()).isEqualTo("alice");
    assertThat(p.password()).isEqualTo("s:cret");
    assertThat(p.variable()).isEqualTo("HTTPS_PROXY");
    assertThat(p.toString()).isEqualTo("http://alice@proxy.corp:3128").doesNotContain("cret");
    assertThat(ProxyConfig.fromEnvironment(Map.of("HTTPS_PROXY", "http://alice:s%3Acret@proxy.corp:3128")).toString())
        .contains("http://alice@proxy.corp:3128").doesNotContain("cret");
  }

  @Test
  void noSchemeMeansHttpAndNoPortMeans80AsInGo() {
    ProxyConfig.Proxy p = https(Map.of("https_proxy", "proxy.corp"), RELAY, 443).orElseThrow();
    assertThat(p.port()).isEqualTo(80);
    assertThat(p.hasCredentials()).isFalse();
    assertThat(p.variable()).isEqualTo("https_proxy");
    assertThat(https(Map.of("HTTPS_PROXY", "http://[2001:db8::1]:8080"), RELAY, 443).orElseThrow().host())
        .isEqualTo("2001:db8::1");
  }

  @Test
  void upperCaseWinsAndEmptyCountsAsUnset() {
    assertThat(https(Map.of("HTTPS_PROXY", "http://upper:1", "https_proxy", "http://lower:2"), RELAY, 443)
        .orElseThrow().host()).isEqualTo("upper");
    assertThat(https(Map.of("HTTPS_PROXY", " ", "https_proxy", "http://lower:2"), RELAY, 443)
        .orElseThrow().host()).isEqualTo("lower");
  }

  @Test
  void allProxyIsTheFallbackForBothSchemes() {
    Map<String, String> env = Map.of("ALL_PROXY", "http://all:9");
    assertThat(https(env, RELAY, 443).orElseThrow().host()).isEqualTo("all");
    assertThat(ProxyConfig.fromEnvironment(env).forTarget(false, "127.0.0.1", 3340).orElseThrow().host()).isEqualTo("all");
    Map<String, String> both = Map.of("all_proxy", "http://all:9", "HTTPS_PROXY", "http://tls:8");
    assertThat(https(both, RELAY, 443).orElseThrow().host()).isEqualTo("tls");
    assertThat(ProxyConfig.fromEnvironment(both).forTarget(false, RELAY, 80).orElseThrow().host()).isEqualTo("all");
  }

  @Test
  void httpsProxyDoesNotCarryPlainHttp() {
    Map<String, String> env = Map.of("HTTPS_PROXY", "http://tls:8");
    assertThat(ProxyConfig.fromEnvironment(env).forTarget(false, RELAY, 80)).isEmpty();
  }

  @Test
  void badUrlsAreOneLineAndNameTheVariableNotThePassword() {
    for (String bad : new String[] {"socks5://proxy:1080", "https://proxy:443", "http://", "http://proxy:99999",
        "http://proxy:3128/some/path", "http://u:p%zz@proxy:1", "http://bad host:1"}) {
      assertThatThrownBy(() -> ProxyConfig.fromEnvironment(Map.of("HTTPS_PROXY", bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("HTTPS_PROXY is not a usable proxy URL")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("p%zz"));
    }
    assertThatThrownBy(() -> ProxyConfig.fromEnvironment(Map.of("all_proxy", "http://bob:hunter2@:3128")))
        .hasMessageStartingWith("all_proxy is not")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }

  @Test
  void noProxyStarTurnsItOff() {
    assertThat(https(Map.of("HTTPS_PROXY", "http://p:1", "NO_PROXY", "*"), RELAY, 443)).isEmpty();
    assertThat(https(Map.of("HTTPS_PROXY", "http://p:1", "no_proxy", " example.com , * "), RELAY, 443)).isEmpty();
  }

  @Test
  void noProxyDomainsMatchThemselvesAndSubdomains() {
    Map<String, String> env = Map.of("HTTPS_PROXY", "http://p:1", "NO_PROXY", "tailscale.com,.corp.example,*.lan");
    assertThat(https(env, "tailscale.com", 443)).isEmpty();
    assertThat(https(env, RELAY, 443)).isEmpty();
    assertThat(https(env, "DERP1.TailScale.COM.", 443)).isEmpty();
    assertThat(https(env, "nottailscale.com", 443)).isPresent();
    assertThat(https(env, "corp.example", 443)).as("a leading dot: subdomains only").isPresent();
    assertThat(https(env, "relay.corp.example", 443)).isEmpty();
    assertThat(https(env, "lan", 443)).isPresent();
    assertThat(https(env, "relay.lan", 443)).isEmpty();
  }

  @Test
  void noProxyPortsRestrictTheMatch() {
    Map<String, String> env = Map.of("HTTPS_PROXY", "http://p:1", "NO_PROXY", "relay.example:8443,10.1.2.3:443,[2001:db8::7]:443");
    assertThat(https(env, "relay.example", 8443)).isEmpty();
    assertThat(https(env, "relay.example", 443)).isPresent();
    assertThat(https(env, "10.1.2.3", 443)).isEmpty();
    assertThat(https(env, "10.1.2.3", 444)).isPresent();
    assertThat(https(env, "[2001:db8::7]", 443)).isEmpty();
    assertThat(https(env, "2001:db8::7", 80)).isPresent();
  }

  @Test
  void noProxyIpsAndCidrsMatchIpLiteralsOnly() {
    Map<String, String> env = Map.of("HTTPS_PROXY", "http://p:1", "NO_PROXY", "192.0.2.0/24,198.51.100.7,fd00::/8,127.0.0.1");
    assertThat(https(env, "192.0.2.200", 443)).isEmpty();
    assertThat(https(env, "192.0.3.1", 443)).isPresent();
    assertThat(https(env, "198.51.100.7", 443)).isEmpty();
    assertThat(https(env, "198.51.100.8", 443)).isPresent();
    assertThat(https(env, "fd12::1", 443)).isEmpty();
    assertThat(https(env, "fe80::1", 443)).isPresent();
    assertThat(https(env, "127.0.0.1", 443)).isEmpty();
    assertThat(https(env, "localhost", 443)).as("a name is not its address").isPresent();
  }

  @Test
  void loopbackIsProxiedUnlessListed() {
    assertThat(https(Map.of("HTTPS_PROXY", "http://p:1"), "127.0.0.1", 443)).isPresent();
  }

  @Test
  void garbageNoProxyEntriesAreSkipped() {
    Map<String, String> env = Map.of("HTTPS_PROXY", "http://p:1", "NO_PROXY", "10.0.0.0/99,[::1,:x,.,,host:notaport,example.org");
    assertThat(https(env, "10.0.0.1", 443)).isPresent();
    assertThat(https(env, "example.org", 443)).isEmpty();
  }

  // ---- properties

  @Property(tries = 300)
  void aCidrMatchesExactlyTheAddressesThatShareItsPrefix(@ForAll @IntRange(min = 0, max = 32) int prefix,
      @ForAll int net, @ForAll int addr) {
    String cidr = dotted(net) + "/" + prefix;
    long mask = prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
    boolean inside = ((net & 0xffffffffL) & mask) == ((addr & 0xffffffffL) & mask);
    Optional<ProxyConfig.Proxy> p = https(Map.of("HTTPS_PROXY", "http://p:1", "NO_PROXY", cidr), dotted(addr), 443);
    assertThat(p.isEmpty()).as(cidr + " vs " + dotted(addr)).isEqualTo(inside);
  }

  @Property(tries = 300)
  void aDomainMatchesItsSubdomainsAndNothingThatMerelyEndsLikeIt(@ForAll("labels") String domain,
      @ForAll("labels") String sub, @ForAll("labels") String glued) {
    Map<String, String> env = Map.of("HTTPS_PROXY", "http://p:1", "NO_PROXY", domain);
    assertThat(https(env, domain, 443)).isEmpty();
    assertThat(https(env, sub + "." + domain, 443)).isEmpty();
    assertThat(https(env, glued + domain, 443)).isPresent(); // "evilexample.com" is not "example.com"
  }

  @Property(tries = 200)
  void noPasswordEverReachesAMessage(@ForAll("secrets") String secret) {
    String url = "http://user:" + secret + "@proxy.example:3128";
    ProxyConfig c = ProxyConfig.fromEnvironment(Map.of("HTTPS_PROXY", url));
    assertThat(c.toString()).doesNotContain(secret);
    assertThat(c.forTarget(true, RELAY, 443).orElseThrow().toString()).doesNotContain(secret);
  }

  @Provide
  Arbitrary<String> labels() {
    return Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(10)
        .map(s -> s + ".test");
  }

  @Provide
  Arbitrary<String> secrets() {
    return Arbitraries.strings().withCharRange('A', 'Z').ofMinLength(6).ofMaxLength(16);
  }

  private static String dotted(int v) {
    return ((v >>> 24) & 0xff) + "." + ((v >>> 16) & 0xff) + "." + ((v >>> 8) & 0xff) + "." + (v & 0xff);
  }
}
