package dev.derphole.session.token;

import dev.derphole.derp.net.IpLiteral;

import dev.derphole.derp.key.NodePublicKey;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;

/**
 * The binary form of a {@link Token}; the byte table is in the {@code Token} Javadoc and in
 * docs/protocol.md. Symmetric: {@link #encode}, {@link #decode}, {@link #encodedLength}.
 *
 * <p>Version independent: the magic at 0, the version at 2 and the CRC-32C trailer. So a token of
 * any version with a good checksum is "unsupported version", never "corrupted", and a damaged
 * version byte is "corrupted", never "unsupported version".
 */
final class TokenCodec {
  static final byte MAGIC_0 = 0x76;
  static final byte MAGIC_1 = 0x1A;
  static final int CHECKSUM_LENGTH = TokenText.CHECKSUM_LENGTH;
  /** Magic, version, checksum: the least anything must have to be judged a token. */
  static final int FRAME_LENGTH = 2 + 1 + CHECKSUM_LENGTH;
  /** Offset of the relay flags byte; everything before it has a fixed size. */
  static final int FLAGS_OFFSET = 127;
  /** A token without a custom relay. */
  static final int MIN_LENGTH = FLAGS_OFFSET + 1 + CHECKSUM_LENGTH;

  static final int FLAG_CUSTOM = 0x01;
  static final int FLAG_TLS = 0x02;
  static final int FLAG_PIN = 0x04;
  static final int FLAG_IP = 0x08;
  static final int FLAG_STUN = 0x10;
  /** Every flag this version knows; bits 5-7 are reserved and must be zero. */
  static final int KNOWN_FLAGS = FLAG_CUSTOM | FLAG_TLS | FLAG_PIN | FLAG_IP | FLAG_STUN;

  private TokenCodec() {}

  static int encodedLength(Token t) {
    int length = MIN_LENGTH;
    Optional<CustomRelay> custom = t.relay().custom();
    if (custom.isPresent()) {
      CustomRelay c = custom.get();
      length += 1 + c.host().length() + 2;
      length += c.certSha256().isPresent() ? CustomRelay.PIN_LENGTH : 0;
      length += c.ipLiteral().map(ip -> 1 + address(ip).getAddress().length).orElse(0);
      length += c.stunPort().isPresent() ? 2 : 0;
    }
    return length;
  }

  static byte[] encode(Token t) {
    ByteBuffer b = ByteBuffer.allocate(encodedLength(t) - CHECKSUM_LENGTH);
    b.put(MAGIC_0).put(MAGIC_1);
    b.put((byte) t.version());
    b.put((byte) t.capability().code());
    b.put(t.sessionId());
    b.putLong(t.expires().getEpochSecond());
    b.putShort((short) t.relay().regionId());
    b.put(t.issuerDerpKey().raw());
    b.put(t.issuerTlsKey());
    b.put(t.bearerSecret());
    Optional<CustomRelay> custom = t.relay().custom();
    if (custom.isEmpty()) {
      b.put((byte) 0);
    } else {
      CustomRelay c = custom.get();
      Optional<byte[]> pin = c.certSha256();
      Optional<InetAddress> ip = c.ipLiteral().map(TokenCodec::address);
      int flags = FLAG_CUSTOM
          | (c.tls() ? FLAG_TLS : 0)
          | (pin.isPresent() ? FLAG_PIN : 0)
          | (ip.isPresent() ? FLAG_IP : 0)
          | (c.stunPort().isPresent() ? FLAG_STUN : 0);
      b.put((byte) flags);
      byte[] host = c.host().getBytes(StandardCharsets.US_ASCII);
      b.put((byte) host.length).put(host);
      b.putShort((short) c.port());
      pin.ifPresent(b::put);
      ip.ifPresent(a -> b.put((byte) a.getAddress().length).put(a.getAddress()));
      c.stunPort().ifPresent(p -> b.putShort((short) p));
    }
    return TokenText.seal(b.array());
  }

  /**
   * Judges the frame, then reads the fields (versions 1 and 2 share them; a capability in a version
   * other than its own is corrupted). Expiry is the caller's business.
   */
  static Token decode(byte[] bytes) throws TokenException {
    if (bytes.length < FRAME_LENGTH || bytes[0] != MAGIC_0 || bytes[1] != MAGIC_1) {
      throw TokenException.notAToken();
    }
    if (!TokenText.checksumHolds(bytes)) {
      throw TokenException.corrupted();
    }
    int bodyEnd = bytes.length - CHECKSUM_LENGTH;
    int version = bytes[2] & 0xFF;
    if (version < Token.VERSION || version > Token.LATEST_VERSION) {
      throw TokenException.unsupportedVersion(version);
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes, 3, bodyEnd - 3);
      Capability capability =
          Capability.of(b.get() & 0xFF).orElseThrow(TokenException::corrupted);
      byte[] sessionId = take(b, Token.SESSION_ID_LENGTH);
      Instant expires = Instant.ofEpochSecond(b.getLong());
      int regionId = b.getShort() & 0xFFFF;
      NodePublicKey derpKey = NodePublicKey.fromRaw(take(b, NodePublicKey.LENGTH));
      byte[] tlsKey = take(b, CompressedP256.LENGTH);
      byte[] bearer = take(b, Token.BEARER_LENGTH);
      RelayHint relay = new RelayHint(regionId, readCustomRelay(b));
      Token token =
          new Token(version, capability, sessionId, expires, derpKey, tlsKey, bearer, relay);
      // One token, one byte string: no trailing bytes, no second spelling of a field.
      if (b.hasRemaining() || !Arrays.equals(encode(token), bytes)) {
        throw TokenException.corrupted();
      }
      return token;
    } catch (BufferUnderflowException | IllegalArgumentException | DateTimeException e) {
      // A good checksum over bad fields: only a buggy or hostile issuer makes these.
      throw TokenException.corrupted();
    }
  }

  private static Optional<CustomRelay> readCustomRelay(ByteBuffer b) throws TokenException {
    int flags = b.get() & 0xFF;
    if (flags == 0) {
      return Optional.empty();
    }
    if ((flags & FLAG_CUSTOM) == 0 || (flags & ~KNOWN_FLAGS) != 0) {
      throw TokenException.corrupted();
    }
    String host = new String(take(b, b.get() & 0xFF), StandardCharsets.US_ASCII);
    int port = b.getShort() & 0xFFFF;
    Optional<byte[]> pin =
        (flags & FLAG_PIN) != 0 ? Optional.of(take(b, CustomRelay.PIN_LENGTH)) : Optional.empty();
    Optional<String> ip = Optional.empty();
    if ((flags & FLAG_IP) != 0) {
      int length = b.get() & 0xFF;
      if (length != 4 && length != 16) {
        throw TokenException.corrupted();
      }
      try {
        ip = Optional.of(IpLiteral.format(InetAddress.getByAddress(take(b, length))));
      } catch (UnknownHostException e) {
        throw new AssertionError("4 or 16 bytes are an IP address", e);
      }
    }
    java.util.OptionalInt stun = java.util.OptionalInt.empty();
    if ((flags & FLAG_STUN) != 0) {
      int sp = b.getShort() & 0xFFFF;
      if (sp == 0) {
        throw TokenException.corrupted();
      }
      stun = java.util.OptionalInt.of(sp);
    }
    return Optional.of(new CustomRelay(host, port, (flags & FLAG_TLS) != 0, pin, ip, stun));
  }

  private static byte[] take(ByteBuffer b, int n) {
    byte[] out = new byte[n];
    b.get(out);
    return out;
  }

  /** The address of a canonical literal that {@link CustomRelay} has already checked. */
  private static InetAddress address(String literal) {
    return IpLiteral.parse(literal)
        .orElseThrow(() -> new IllegalStateException("unchecked IP literal " + literal));
  }
}
