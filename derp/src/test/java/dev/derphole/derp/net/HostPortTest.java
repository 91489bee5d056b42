package dev.derphole.derp.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HostPortTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      192.0.2.1:443          | 192.0.2.1       | 443
      relay.example:8443     | relay.example   | 8443
      [2001:db8::1]:41641    | 2001:db8::1     | 41641
      [fe80::1%eth0]:5       | fe80::1%eth0    | 5
      :3340                  | ''              | 3340
      []:1                   | ''              | 1
      host:0                 | host            | 0
      host:65535             | host            | 65535
      """)
  void splitsHostAndPortWithIpv6InBrackets(String text, String host, int port) {
    HostPort hp = HostPort.parse(text);
    assertThat(hp.host()).isEqualTo(host);
    assertThat(hp.port()).isEqualTo(port);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      2001:db8::1:80         | put IPv6 addresses in brackets
      [2001:db8::1]          | want [v6-address]:port
      [2001:db8::1]80        | want [v6-address]:port
      [2001:db8::1           | want [v6-address]:port
      host                   | want host:port
      host:                  | bad port
      host:+80               | bad port
      host:-1                | bad port
      host:8o                | bad port
      host:123456            | bad port
      host:65536             | port 65536 out of range
      """)
  void refusesWhatIsNotHostColonPortSayingWhy(String text, String why) {
    assertThatThrownBy(() -> HostPort.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(why);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      8080                   | ''              | 8080
      127.0.0.1:22           | 127.0.0.1       | 22
      """)
  void onACommandLineAPortAloneHasNoHost(String text, String host, int port) {
    assertThat(HostPort.parseOrPort(text)).isEqualTo(new HostPort(host, port));
    assertThatThrownBy(() -> HostPort.parseOrPort("nonsense")).hasMessage("bad port \"nonsense\" in \"nonsense\"");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      192.0.2.1     | 443   | 192.0.2.1:443
      2001:db8::1   | 443   | [2001:db8::1]:443
      relay.example | 80    | relay.example:80
      """)
  void writesIpv6InBrackets(String host, int port, String text) {
    assertThat(new HostPort(host, port)).hasToString(text);
    assertThat(HostPort.parse(text)).isEqualTo(new HostPort(host, port));
  }
}
