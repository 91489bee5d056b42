package dev.derphole.session.tunnel;

import dev.derphole.session.token.TokenException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.TestTokens;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class TunnelTokenPropertiesTest {
  static final Instant NOW = TestTokens.NOW;

  @Provide
  Arbitrary<ServerToken> servers() {
    Arbitrary<RelayHint> relays = Arbitraries.oneOf(
        Arbitraries.integers().between(0, 65535).map(RelayHint::region),
        Arbitraries.just(RelayHint.custom(7, TestTokens.fullCustomRelay())));
    Arbitrary<TokenKind> kinds = Arbitraries.of(TokenKind.SERVER, TokenKind.SHARED);
    Arbitrary<Integer> days = Arbitraries.integers().between(1, 3650);
    return net.jqwik.api.Combinators.combine(kinds, relays, days)
        .as((k, r, d) -> ServerToken.create(k, r, NOW.plus(Duration.ofDays(d))));
  }

  @Property(tries = 60)
  void serverTokensRoundTrip(@ForAll("servers") ServerToken s) throws Exception {
    assertThat(ServerToken.decodeForServe(s.encode(), "derptun serve", NOW)).isEqualTo(s);
  }

  @Property(tries = 60)
  void clientTokensRoundTripAndVerify(@ForAll("servers") ServerToken s, @ForAll @IntRange(min = 1, max = 3650) int days)
      throws Exception {
    Instant expires = NOW.plus(Duration.ofDays(days));
    if (expires.isAfter(s.expires())) {
      expires = s.expires();
    }
    ClientToken c = s.mintClient(expires, NOW);
    ClientToken back = ClientToken.decodeForConnect(c.encode(), "derptun open", NOW);
    assertThat(back).isEqualTo(c);
    assertThat(s.verifies(back.clientId(), back.expires(), back.proof())).isTrue();
    assertThat(back.expires()).isBeforeOrEqualTo(s.expires());
  }

  @Property(tries = 200)
  void everyFlippedBitIsCaught(@ForAll("servers") ServerToken s, @ForAll @IntRange(min = 0, max = 100_000) int position,
                               @ForAll @IntRange(min = 0, max = 7) int bit) throws Exception {
    String text = s.mintClient(s.expires(), NOW).encode();
    byte[] bin = Base64.getUrlDecoder().decode(text.substring(5));
    int i = position % bin.length;
    bin[i] ^= (byte) (1 << bit);
    String damaged = "dtc1_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bin);
    TokenException e = catchThrowableOfType(() -> ClientToken.decodeForConnect(damaged, "derptun open", NOW),
        TokenException.class);
    assertThat(e).as("a flipped bit at byte %d", i).isNotNull();
    assertThat(e.reason()).isIn(TokenException.Reason.CORRUPTED, TokenException.Reason.UNSUPPORTED_VERSION);
  }
}
