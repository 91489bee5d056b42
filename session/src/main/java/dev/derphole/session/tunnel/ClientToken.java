package dev.derphole.session.tunnel;

import dev.derphole.session.token.TokenException;
import dev.derphole.session.token.Token;
import dev.derphole.session.token.TokenException.Reason;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * What a derptun client holds ({@code dtc1_…}): enough to find and authenticate to one server until
 * its expiry, and nothing that could serve or mint.
 *
 * <p>Body of the {@link TunnelTokenText text frame}:
 *
 * <pre>
 *   off  len  field
 *     0   16  client id                    random per minted token
 *    16   32  proof                        HMAC over tunnel id, client id, expiry ({@link Credentials})
 *    48    *  session token                a version-1 derphole token (docs/protocol.md §1):
 *                                          capability tunnel, session id = client id,
 *                                          expires = the client's expiry, the server's DERP and
 *                                          TLS public keys, bearer secret = the client bearer,
 *                                          relay hint
 * </pre>
 *
 * The claim is sealed with keys derived from the session token (as any derphole claim), so only
 * the server, which can recompute the bearer from its signing secret, can open it.
 */
public final class ClientToken {
  public static final Duration DEFAULT_LIFETIME = Duration.ofDays(90);
  static final int HEADER_LENGTH = Credentials.CLIENT_ID_LENGTH + Credentials.PROOF_LENGTH;

  private final TokenKind kind;
  private final byte[] proof;
  private final Token session;

  ClientToken(TokenKind kind, byte[] proof, Token session) {
    this.kind = Objects.requireNonNull(kind, "kind");
    this.proof = proof.clone();
    this.session = Objects.requireNonNull(session, "session");
  }

  /** Only a real client token has a text form; a shared token stands for itself. */
  public String encode() {
    if (kind != TokenKind.CLIENT) {
      throw new IllegalStateException("only client tokens are encoded as dtc1_");
    }
    byte[] inner = session.toBytes();
    ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH + inner.length);
    b.put(session.sessionId()).put(proof).put(inner);
    return TunnelTokenText.encode(TokenKind.CLIENT, b.array());
  }

  /**
   * Reads a token for a connecting command ({@code open}, {@code connect}): a client token, or a
   * shared token standing in for one; not expired.
   */
  public static ClientToken decodeForConnect(String text, String command, Instant now) throws TokenException {
    TunnelTokenText.Frame f = TunnelTokenText.decode(text);
    ClientToken t;
    switch (f.kind()) {
      case SERVER -> throw new TokenException(Reason.WRONG_KIND, "this is a server token (dts1_…), which stays on the server; `"
          + command + "` needs a client token (dtc1_…): run `derptun token client` on the server");
      case SHARED -> t = ServerToken.parse(f).sharedClient();
      default -> t = parse(f);
    }
    t.requireUnexpired(now);
    return t;
  }

  static ClientToken parse(TunnelTokenText.Frame f) throws TokenException {
    byte[] body = f.body();
    if (body.length <= HEADER_LENGTH) {
      throw TunnelTokenText.corrupted();
    }
    byte[] clientId = Arrays.copyOfRange(body, 0, Credentials.CLIENT_ID_LENGTH);
    byte[] proof = Arrays.copyOfRange(body, Credentials.CLIENT_ID_LENGTH, HEADER_LENGTH);
    Token session = ServerToken.innerToken(Arrays.copyOfRange(body, HEADER_LENGTH, body.length));
    if (!Arrays.equals(clientId, session.sessionId()) || session.capability() != dev.derphole.session.token.Capability.TUNNEL) {
      throw TunnelTokenText.corrupted();
    }
    return new ClientToken(TokenKind.CLIENT, proof, session);
  }

  public void requireUnexpired(Instant now) throws TokenException {
    if (!now.isBefore(expires())) {
      throw TokenException.expired(kind == TokenKind.SHARED ? "derptun token" : "client token", expires(), now);
    }
  }

  public TokenKind kind() {
    return kind;
  }

  public Instant expires() {
    return session.expires();
  }

  /** The client id (16 bytes), carried in clear in the claim so the server can derive its keys. */
  public byte[] clientId() {
    return session.sessionId();
  }

  byte[] proof() {
    return proof.clone();
  }

  /** The derphole session token this client claims with: relay, server keys, bearer. */
  public Token session() {
    return session;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClientToken t && t.kind == kind && Arrays.equals(t.proof, proof) && t.session.equals(session);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(proof);
  }

  /** Never shows secrets. */
  @Override
  public String toString() {
    return "ClientToken[" + kind + ", expires " + expires() + ", (secrets redacted)]";
  }
}
