package dev.derphole.session.offer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.derphole.session.SessionException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class OfferHeaderTest {
  static OfferHeader read(byte[] frame) throws SessionException, IOException {
    return OfferHeader.readFrom(new ByteArrayInputStream(frame));
  }

  static byte[] frame(String json) {
    byte[] j = json.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(12 + j.length).put(OfferHeader.MAGIC).putInt(j.length).put(j).array();
  }

  @Test
  void goldenFrame() {
    OfferHeader h = new OfferHeader(OfferKind.FILE, "a.jpg", 1572864, 1, 1572864, "7KQ2-MX4A-P9RT");
    String json = "{\"version\":1,\"kind\":\"file\",\"name\":\"a.jpg\",\"size\":1572864,\"files\":1,"
        + "\"content_bytes\":1572864,\"verify\":\"7KQ2-MX4A-P9RT\"}";
    // "DHOFFER1", u32 length of the JSON, the JSON.
    assertThat(h.encode()).isEqualTo(frame(json));
  }

  @Property
  void encodeThenReadReturnsTheHeader(@ForAll("headers") OfferHeader h) throws Exception {
    assertThat(read(h.encode())).isEqualTo(h);
  }

  @Provide
  Arbitrary<OfferHeader> headers() {
    Arbitrary<String> names = Arbitraries.strings().withCharRange('!', '~').withCharRange('\u00a0', '\u07ff')
        .ofMinLength(1).ofMaxLength(60).filter(n -> !n.contains("/") && !n.equals(".") && !n.equals(".."));
    return Combinators.combine(Arbitraries.of(OfferKind.FILE, OfferKind.DIRECTORY), names,
        Arbitraries.longs().between(0, Long.MAX_VALUE), Arbitraries.longs().between(0, 1 << 20),
        Arbitraries.longs().between(0, Long.MAX_VALUE))
        .as((k, n, s, f, c) -> new OfferHeader(k, n, s, f, c, "ABCD-EFGH-JKMN"));
  }

  @Test
  void namesThatCouldLeaveTheTargetDirectoryAreRefused() {
    for (String name : new String[] {"", ".", "..", "a/b", "../x", "/etc/passwd", "a\0b", "line\nbreak", "csi\u009b2J",
        "x".repeat(256)}) {
      String json = "{\"version\":1,\"kind\":\"file\",\"name\":" + quoteJson(name) + ",\"size\":1,\"files\":1,"
          + "\"content_bytes\":1,\"verify\":\"V\"}";
      assertThatThrownBy(() -> read(frame(json))).as(name).isInstanceOf(SessionException.class)
          .hasMessageContaining("unsafe name").hasMessageNotContaining("\n").hasMessageNotContaining("\u009b");
    }
  }

  private static String quoteJson(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  @Test
  void wrongMagicVersionSizeAndMissingFieldsAreRefused() {
    assertThatThrownBy(() -> read("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII)))
        .hasMessage("the other side does not speak the derphole offer protocol (version 1)");
    assertThatThrownBy(() -> read(frame("{\"version\":2,\"kind\":\"file\"}")))
        .hasMessageContaining("offer protocol version 2");
    assertThatThrownBy(() -> read(frame("{\"version\":1,\"kind\":\"file\",\"name\":\"a\",\"size\":-1,"
        + "\"files\":1,\"content_bytes\":1,\"verify\":\"V\"}"))).hasMessageContaining("\"size\"");
    assertThatThrownBy(() -> read(frame("{\"version\":1,\"kind\":\"text\",\"name\":\"\",\"size\":99999999,"
        + "\"files\":0,\"content_bytes\":1,\"verify\":\"V\"}"))).hasMessageContaining("text of 99999999 bytes");
    assertThatThrownBy(() -> read(frame("{\"version\":1,\"kind\":\"music\",\"name\":\"a\",\"size\":1,"
        + "\"files\":1,\"content_bytes\":1,\"verify\":\"V\"}"))).hasMessageContaining("unknown kind");
    assertThatThrownBy(() -> read(frame("{\"version\":1,\"kind\":\"file\",\"name\":\"a\",\"name\":\"b\"}")))
        .hasMessageContaining("not JSON");
    byte[] huge = ByteBuffer.allocate(12).put(OfferHeader.MAGIC).putInt(OfferHeader.MAX_JSON + 1).array();
    assertThatThrownBy(() -> read(huge)).hasMessageContaining("too large");
    assertThatThrownBy(() -> read(new byte[0])).hasMessageContaining("before saying what it sends");
  }

  @Test
  void verdictRoundTripsAndEscapesControlCharacters() throws Exception {
    Verdict no = Verdict.no("\"a.jpg\" already exists");
    assertThat(Verdict.readFrom(new ByteArrayInputStream(no.encode()), "now")).isEqualTo(no);
    assertThat(Verdict.readFrom(new ByteArrayInputStream(Verdict.YES.encode()), "now")).isEqualTo(Verdict.YES);
    Verdict evil = Verdict.no("ok\u001b[2J\u009b2J\u202e");
    assertThat(Verdict.readFrom(new ByteArrayInputStream(evil.encode()), "now").reason())
        .isEqualTo("ok\\x1b[2J\\x9b2J\\u202e");
    assertThatThrownBy(() -> Verdict.readFrom(new ByteArrayInputStream(new byte[0]), "after the offer"))
        .hasMessage("the receiver closed the transfer after the offer without an answer");
  }
}
