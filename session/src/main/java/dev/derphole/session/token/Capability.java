package dev.derphole.session.token;

import java.util.Locale;
import java.util.Optional;

/**
 * What a token lets its bearer do. Each capability pairs the command that issues the token with the
 * one that claims it; both names appear in user-facing errors. The wire code is one byte in the
 * token (see {@link Token}); the JSON name (in claims) is the lower-case constant name.
 *
 * <p>The set is part of the token version: a new capability means a new token version, and a
 * token is written in the version its capability came with ({@link #tokenVersion()}), never
 * another, so tokens of the older capabilities stay byte for byte what they were, and an older
 * derphole given a newer kind says "this token is version 2", not "corrupted".
 */
public enum Capability {
  STREAM(1, "derphole listen", "derphole pipe"),
  OFFER(2, "derphole send", "derphole receive"),
  SHARE(3, "derphole share", "derphole open"),
  SSH(4, "derphole ssh invite", "derphole ssh accept"),
  TUNNEL(5, "derptun serve", "derptun open/connect"),
  /** Receiver first: {@code derphole receive} issues, {@code derphole send --to} claims and sends. */
  RECEIVE(6, "derphole receive", "derphole send --to", 2);

  private final int code;
  private final int tokenVersion;
  private final String issuerCommand;
  private final String claimantCommand;

  Capability(int code, String issuerCommand, String claimantCommand) {
    this(code, issuerCommand, claimantCommand, 1);
  }

  Capability(int code, String issuerCommand, String claimantCommand, int tokenVersion) {
    this.code = code;
    this.tokenVersion = tokenVersion;
    this.issuerCommand = issuerCommand;
    this.claimantCommand = claimantCommand;
  }

  /** The one-byte wire code. */
  public int code() {
    return code;
  }

  /** The token version that brought this capability, the only one a token of it is written in. */
  public int tokenVersion() {
    return tokenVersion;
  }

  /** The command that issues tokens of this capability, e.g. {@code derphole share}. */
  public String issuerCommand() {
    return issuerCommand;
  }

  /** The command that claims tokens of this capability, e.g. {@code derphole open}. */
  public String claimantCommand() {
    return claimantCommand;
  }

  /** The name used in JSON messages: {@code "stream"}, {@code "offer"}, ... */
  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The capability with this wire code, if any. */
  public static Optional<Capability> of(int code) {
    for (Capability c : values()) {
      if (c.code == code) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  /** The capability with this JSON name (exact, lower case), if any. */
  public static Optional<Capability> ofJsonName(String name) {
    for (Capability c : values()) {
      if (c.jsonName().equals(name)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
