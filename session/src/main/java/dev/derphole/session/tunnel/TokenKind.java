package dev.derphole.session.tunnel;

import java.util.Optional;

/**
 * The three kinds of derptun token, each with its own text prefix so that a reader (and a user)
 * can tell them apart at a glance: {@code dts1_…} server, {@code dtc1_…} client, {@code dtt1_…}
 * shared (the one-token form: a server token that {@code open} and {@code connect} also accept).
 */
public enum TokenKind {
  /** Secret: serves the tunnel and mints client tokens. */
  SERVER('s', "a server token", "`derptun serve` and `derptun token client`"),
  /** Connects until it expires; cannot serve or mint. */
  CLIENT('c', "a client token", "`derptun open` and `derptun connect`"),
  /** The same token on both sides (README's `derptun token --days 7`): serves, mints and connects. */
  SHARED('t', "a shared token", "every derptun command");

  private final char letter;
  private final String description;
  private final String usedBy;

  TokenKind(char letter, String description, String usedBy) {
    this.letter = letter;
    this.description = description;
    this.usedBy = usedBy;
  }

  /** The byte that starts the binary form and follows "dt" in the text. */
  char letter() {
    return letter;
  }

  /** {@code dts1_}, {@code dtc1_}, {@code dtt1_}. */
  public String prefix() {
    return "dt" + letter + TunnelTokenText.VERSION + "_";
  }

  /** "a server token". */
  public String description() {
    return description;
  }

  /** Which commands take it, for error messages. */
  public String usedBy() {
    return usedBy;
  }

  /** May run {@code derptun serve} and {@code derptun token client}. */
  public boolean canServe() {
    return this != CLIENT;
  }

  static Optional<TokenKind> ofLetter(int letter) {
    for (TokenKind k : values()) {
      if (k.letter == letter) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
