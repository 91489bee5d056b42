package dev.derphole.session.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.derphole.derp.key.NodePublicKey;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class TokenPropertiesTest {
  private static final List<byte[]> TLS_KEYS =
      List.of(TestTokens.GENERATOR_TLS_KEY, TestTokens.tlsKey(), TestTokens.tlsKey());

  @Property
  void encodeThenDecodeReturnsTheToken(@ForAll("tokens") Token token) throws TokenException {
    Instant before = token.expires().minusSeconds(1);
    assertThat(Token.decode(token.encode(), before)).isEqualTo(token);
    assertThat(TokenCodec.encode(token)).hasSize(TokenCodec.encodedLength(token));
  }

  @Property
  void everyFlippedBitIsCaught(
      @ForAll("tokens") Token token,
      @ForAll @IntRange(min = 0, max = 10_000) int position,
      @ForAll @IntRange(min = 0, max = 7) int bit) {
    byte[] bytes = TokenCodec.encode(token);
    int index = position % bytes.length;
    bytes[index] ^= (byte) (1 << bit);
    String text = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);

    TokenException e = decodeFails(text, token);
    assertThat(e.reason())
        .isEqualTo(index < 2 ? TokenException.Reason.NOT_A_TOKEN : TokenException.Reason.CORRUPTED);
  }

  @Property
  void everyChangedCharacterIsCaught(
      @ForAll("tokens") Token token,
      @ForAll @IntRange(min = 0, max = 10_000) int position,
      @ForAll @IntRange(min = 1, max = 63) int shift) {
    String text = token.encode();
    int index = position % text.length();
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char changed = alphabet.charAt((alphabet.indexOf(text.charAt(index)) + shift) % 64);
    String damaged = text.substring(0, index) + changed + text.substring(index + 1);

    TokenException e = decodeFails(damaged, token);
    assertThat(e.reason())
        .isIn(TokenException.Reason.NOT_A_TOKEN, TokenException.Reason.CORRUPTED);
  }

  @Property
  void whitespaceAnywhereIsIgnored(
      @ForAll("tokens") Token token,
      @ForAll("whitespace") List<String> gaps) throws TokenException {
    String text = token.encode();
    StringBuilder spaced = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      spaced.append(gaps.get(i % gaps.size())).append(text.charAt(i));
    }
    spaced.append(gaps.get(0));
    assertThat(Token.decode(spaced.toString(), token.expires().minusSeconds(1))).isEqualTo(token);
  }

  @Property
  void randomBytesWithoutTheMagicAreNotAToken(@ForAll byte[] bytes) {
    Assume.that(
        bytes.length < 2 || bytes[0] != TokenCodec.MAGIC_0 || bytes[1] != TokenCodec.MAGIC_1);
    String text = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    assertThat(decodeFails(text, null).reason()).isEqualTo(TokenException.Reason.NOT_A_TOKEN);
  }

  @Property
  void randomTextIsNotAToken(@ForAll String text) {
    // Only text starting "dh" + one of o-r carries the magic.
    Assume.that(!text.strip().matches("(?s)dh[o-r].*"));
    assertThat(decodeFails(text, null).reason()).isEqualTo(TokenException.Reason.NOT_A_TOKEN);
  }

  @Property
  void verificationCodesDifferBetweenTokens(
      @ForAll("tokens") Token a, @ForAll("tokens") Token b) {
    Assume.that(!a.equals(b));
    assertThat(a.verificationCode()).isNotEqualTo(b.verificationCode());
    assertThat(a.verificationCode()).isEqualTo(a.verificationCode());
  }

  /** Decoding must fail: a damaged token is never accepted as some other token. */
  private static TokenException decodeFails(String text, Token original) {
    Instant now = original == null ? TestTokens.NOW : original.expires().minusSeconds(1);
    TokenException e = catchThrowableOfType(TokenException.class, () -> Token.decode(text, now));
    assertThat(e).as("decoding %s", text).isNotNull();
    return e;
  }

  @Provide
  Arbitrary<Token> tokens() {
    Arbitrary<byte[]> sessionIds = Arbitraries.bytes().array(byte[].class).ofSize(16);
    Arbitrary<byte[]> bearers = Arbitraries.bytes().array(byte[].class).ofSize(32);
    Arbitrary<NodePublicKey> derpKeys =
        Arbitraries.bytes().array(byte[].class).ofSize(32).map(NodePublicKey::fromRaw);
    Arbitrary<Instant> expiries =
        Arbitraries.longs().between(1, 4_102_444_800L).map(Instant::ofEpochSecond);
    return Combinators.combine(
            Arbitraries.of(Capability.class),
            sessionIds,
            expiries,
            derpKeys,
            Arbitraries.of(TLS_KEYS),
            bearers,
            relayHints())
        .as((cap, sid, exp, derp, tls, bearer, relay) ->
            new Token(cap.tokenVersion(), cap, sid, exp, derp, tls, bearer, relay));
  }

  private Arbitrary<RelayHint> relayHints() {
    Arbitrary<Integer> regions = Arbitraries.integers().between(0, RelayHint.MAX_REGION_ID);
    Arbitrary<Optional<CustomRelay>> custom = customRelays().optional(0.5);
    return Combinators.combine(regions, custom).as(RelayHint::new);
  }

  private Arbitrary<CustomRelay> customRelays() {
    Arbitrary<String> hosts =
        Arbitraries.oneOf(
            Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(63)
                .list().ofMinSize(1).ofMaxSize(3).map(labels -> String.join(".", labels)),
            Arbitraries.of("derp.example.net", "127.0.0.1", "2001:db8::1", "x"));
    Arbitrary<Integer> ports = Arbitraries.integers().between(1, 65535);
    Arbitrary<Optional<String>> ips =
        Arbitraries.of("192.0.2.1", "2001:db8::53", "::1", "fe80::1:2:3:4", "10.0.0.1")
            .optional(0.5);
    Arbitrary<Optional<byte[]>> pins =
        Arbitraries.bytes().array(byte[].class).ofSize(32).optional(0.5);
    return Combinators.combine(hosts, ports, Arbitraries.of(true, false), pins, ips)
        .as((host, port, tls, pin, ip) ->
            new CustomRelay(host, port, tls, tls ? pin : Optional.empty(), ip));
  }

  @Provide
  Arbitrary<List<String>> whitespace() {
    return Arbitraries.of("", "", "", " ", "\n", "\r\n", "\t", "\u00a0", "  \n  ")
        .list().ofMinSize(1).ofMaxSize(10);
  }
}
