package dev.derphole.session.tunnel;

import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.HumanDuration;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.Token;
import dev.derphole.session.token.TokenException;
import dev.derphole.session.token.TokenException.Reason;
import dev.derphole.transport.quic.TlsIdentity;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * The secret that makes a machine a derptun server: its stable DERP and TLS identities (so a
 * restarted {@code serve} is found under the same key and pinned by the same clients), the signing
 * secret that client tokens are derived from, the expiry, and the relay both sides meet on.
 *
 * <p>Body of the {@link TunnelTokenText text frame} ({@code dts1_…}, or {@code dtt1_…} for the
 * shared one-token form):
 *
 * <pre>
 *   off  len  field
 *     0   32  DERP private key             Curve25519; the server's node key on the relay
 *    32   32  TLS private key              P-256 scalar; its public key is what clients pin
 *    64    *  rendezvous token             a version-1 derphole token (docs/protocol.md §1):
 *                                          capability tunnel, session id = tunnel id,
 *                                          expires, the two public keys above, bearer secret =
 *                                          the signing secret, relay hint
 * </pre>
 *
 * The public keys in the embedded token must match the private keys, or the token is corrupted.
 */
public final class ServerToken {
  public static final Duration DEFAULT_LIFETIME = Duration.ofDays(180);
  static final int KEYS_LENGTH = 32 + P256Keys.SCALAR_LENGTH;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final TokenKind kind;
  private final NodePrivateKey derpKey;
  private final byte[] tlsScalar;
  private final Token rendezvous;

  ServerToken(TokenKind kind, NodePrivateKey derpKey, byte[] tlsScalar, Token rendezvous) {
    if (!kind.canServe()) {
      throw new IllegalArgumentException("a server token cannot be of kind " + kind);
    }
    this.kind = kind;
    this.derpKey = Objects.requireNonNull(derpKey, "derpKey");
    this.tlsScalar = tlsScalar.clone();
    this.rendezvous = Objects.requireNonNull(rendezvous, "rendezvous");
  }

  /** A new server (or shared) token with fresh keys and secret. */
  public static ServerToken create(TokenKind kind, RelayHint relay, Instant expires) {
    NodePrivateKey derp = NodePrivateKey.generate();
    byte[] scalar = P256Keys.generateScalar();
    byte[] tunnelId = new byte[Token.SESSION_ID_LENGTH];
    byte[] signing = new byte[Token.BEARER_LENGTH];
    RANDOM.nextBytes(tunnelId);
    RANDOM.nextBytes(signing);
    Token t = new Token(Token.VERSION, Capability.TUNNEL, tunnelId, expires, derp.publicKey(),
        P256Keys.compressedPublic(scalar), signing, relay);
    return new ServerToken(kind, derp, scalar, t);
  }

  public String encode() {
    byte[] inner = rendezvous.toBytes();
    ByteBuffer b = ByteBuffer.allocate(KEYS_LENGTH + inner.length);
    b.put(derpKey.raw()).put(tlsScalar).put(inner);
    return TunnelTokenText.encode(kind, b.array());
  }

  /**
   * Reads a token for a serving command ({@code serve}, {@code token client}): a server or shared
   * token, not expired.
   *
   * @param command the command, for the message when a client token is given
   */
  public static ServerToken decodeForServe(String text, String command, Instant now) throws TokenException {
    TunnelTokenText.Frame f = TunnelTokenText.decode(text);
    if (!f.kind().canServe()) {
      throw new TokenException(Reason.WRONG_KIND, "this is a client token (dtc1_…); `" + command
          + "` needs the server token (dts1_…) that `derptun token server` printed");
    }
    ServerToken t = parse(f);
    t.requireUnexpired(now);
    return t;
  }

  static ServerToken parse(TunnelTokenText.Frame f) throws TokenException {
    byte[] body = f.body();
    if (body.length <= KEYS_LENGTH) {
      throw TunnelTokenText.corrupted();
    }
    byte[] derpRaw = Arrays.copyOfRange(body, 0, 32);
    byte[] scalar = Arrays.copyOfRange(body, 32, KEYS_LENGTH);
    Token inner = innerToken(Arrays.copyOfRange(body, KEYS_LENGTH, body.length));
    if (!P256Keys.isValid(scalar) || inner.capability() != Capability.TUNNEL) {
      throw TunnelTokenText.corrupted();
    }
    NodePrivateKey derp = NodePrivateKey.fromRaw(derpRaw);
    if (!derp.publicKey().equals(inner.issuerDerpKey())
        || !MessageDigest.isEqual(P256Keys.compressedPublic(scalar), inner.issuerTlsKey())) {
      throw TunnelTokenText.corrupted();
    }
    return new ServerToken(f.kind(), derp, scalar, inner);
  }

  /** A derphole token embedded in a derptun token; expiry is judged by the caller. */
  static Token innerToken(byte[] bytes) throws TokenException {
    try {
      return Token.fromBytes(bytes);
    } catch (TokenException e) {
      throw TunnelTokenText.corrupted();
    }
  }

  /** Throws {@code EXPIRED} ("the server token expired 3 days ago") unless {@code now} is before the expiry. */
  public void requireUnexpired(Instant now) throws TokenException {
    if (!now.isBefore(expires())) {
      throw TokenException.expired(kind == TokenKind.SHARED ? "derptun token" : "server token", expires(), now);
    }
  }

  /**
   * A client token for this server, valid until {@code expires}: never past this token's own
   * expiry, and in the future.
   */
  public ClientToken mintClient(Instant expires, Instant now) throws TokenException {
    requireUnexpired(now);
    Instant e = Instant.ofEpochSecond(expires.getEpochSecond());
    if (!e.isAfter(now)) {
      throw new TokenException(Reason.BAD_EXPIRY, "the client token's expiry must be in the future");
    }
    if (e.isAfter(expires())) {
      throw new TokenException(Reason.BAD_EXPIRY, "a client token cannot outlive its server token, which expires "
          + expires() + " (in " + HumanDuration.of(Duration.between(now, expires())) + ")");
    }
    byte[] clientId = new byte[Credentials.CLIENT_ID_LENGTH];
    RANDOM.nextBytes(clientId);
    return client(TokenKind.CLIENT, clientId, e);
  }

  /** The client this token is when a shared token ({@code dtt1_…}) is given to {@code open}/{@code connect}. */
  ClientToken sharedClient() {
    return client(TokenKind.SHARED, Credentials.sharedClientId(signingSecret(), tunnelId()), expires());
  }

  private ClientToken client(TokenKind as, byte[] clientId, Instant expires) {
    byte[] signing = signingSecret();
    Token session = new Token(Token.VERSION, Capability.TUNNEL, clientId, expires, rendezvous.issuerDerpKey(),
        rendezvous.issuerTlsKey(), Credentials.bearer(signing, tunnelId(), clientId), rendezvous.relay());
    return new ClientToken(as, Credentials.proof(signing, tunnelId(), clientId, expires), session);
  }

  /**
   * The session token a claim from {@code clientId} with this expiry is sealed under, derived
   * from the signing secret (the server keeps no list of clients).
   */
  Token clientSession(byte[] clientId, Instant expires) {
    return client(TokenKind.CLIENT, clientId, expires).session();
  }

  /** Whether {@code proof} is the one this server gives a client with this id and expiry. */
  boolean verifies(byte[] clientId, Instant expires, byte[] proof) {
    return MessageDigest.isEqual(Credentials.proof(signingSecret(), tunnelId(), clientId, expires), proof);
  }

  public TokenKind kind() {
    return kind;
  }

  public Instant expires() {
    return rendezvous.expires();
  }

  public RelayHint relay() {
    return rendezvous.relay();
  }

  /** The token's relay and public keys, as a claimant would see them (for choosing the relay). */
  public Token rendezvous() {
    return rendezvous;
  }

  public NodePrivateKey derpKey() {
    return derpKey;
  }

  /** The stable TLS identity, with a fresh self-signed certificate. */
  public TlsIdentity tlsIdentity() {
    return TlsIdentity.of(P256Keys.keyPair(tlsScalar));
  }

  byte[] tunnelId() {
    return rendezvous.sessionId();
  }

  private byte[] signingSecret() {
    return rendezvous.bearerSecret();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ServerToken t && t.kind == kind && t.encode().equals(encode());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(tlsScalar);
  }

  /** Never shows secrets. */
  @Override
  public String toString() {
    return "ServerToken[" + kind + ", expires " + expires() + ", (secrets redacted)]";
  }
}
