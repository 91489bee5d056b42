package dev.derphole.derp.map;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DerpNodeLiteralTest {

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.0.10"})
    void acceptsDottedQuads(String text) {
        assertThat(DerpNode.ipv4Literal(text)).isNotNull();
        assertThat(DerpNode.ipv4Literal(text).getHostAddress()).isEqualTo(text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "none", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1..2.3",
        "1.2.3.4 ", "localhost", "2001:db8::1", "١.٢.٣.٤"})
    void rejectsAnythingElseAsIpv4(String text) {
        assertThat(DerpNode.ipv4Literal(text)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"::1", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "::", "fe80::1:2", "::1.2.3.4"})
    void acceptsIpv6Literals(String text) {
        assertThat(DerpNode.ipv6Literal(text)).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "none", "192.0.2.1", "::ffff:192.0.2.1", "[::1]", "fe80::1%eth0", "2001:db8::g",
        "example.com", "a.example:80", ".:1", "1:2:3:4:5:6:7:8:9"})
    void rejectsAnythingElseAsIpv6(String text) {
        assertThat(DerpNode.ipv6Literal(text)).isNull();
    }
}
