package dev.derphole.transport.disco;

import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A disco probe or its answer, sent straight over UDP between candidate endpoints to find and keep
 * a direct path. Authenticated with a key only the two session peers hold, so a forged or
 * reflected probe is ignored; the counter lets the receiver refuse a replayed one.
 *
 * <pre>
 *  0      8   9    10    11         23           31                       49
 *  +------+---+----+-----+----------+------------+------------------------+-----------+
 *  |magic |ver|kind|role | txid(12) | counter(8) | observed ip(16)+port(2)| mac(16)   |
 *  +------+---+----+-----+----------+------------+------------------------+-----------+
 *   00 "DHDISC1"  1  1=ping          ping: the     (pong only: where the   HMAC-SHA256(disco key,
 *              2     2=pong          sender's      ping came from,         all bytes before it)
 *                    role: 0 issuer, clock in µs,  v4-mapped)              [0..16)
 *                    1 claimant      strictly
 *                    (the sender's)  increasing;
 *                                    pong: the
 *                                    ping's
 * </pre>
 *
 * The first byte 0x00 never starts a QUIC packet (QUIC sets 0x40), and bytes 4..7 are never the
 * STUN cookie, so one socket carries QUIC, STUN and disco. Version 2 added the counter; a version
 * 1 packet is ignored.
 */
public record DiscoPacket(Kind kind, int senderRole, byte[] txid, long counter, Optional<InetSocketAddress> observed) {
  public static final byte[] MAGIC = "\0DHDISC1".getBytes(StandardCharsets.ISO_8859_1);
  public static final int VERSION = 2;
  public static final int TXID_LENGTH = 12;
  static final int MAC_LENGTH = 16;
  static final int PING_LENGTH = MAGIC.length + 3 + TXID_LENGTH + 8 + MAC_LENGTH;
  static final int PONG_LENGTH = PING_LENGTH + 18;

  public enum Kind { PING, PONG }

  public DiscoPacket {
    if (txid.length != TXID_LENGTH) {
      throw new IllegalArgumentException("txid must be " + TXID_LENGTH + " bytes, got " + txid.length);
    }
    if (senderRole != 0 && senderRole != 1) {
      throw new IllegalArgumentException("role must be 0 or 1, got " + senderRole);
    }
    txid = txid.clone();
  }

  public static boolean looksLikeDisco(ByteBuf buf) {
    if (buf.readableBytes() < PING_LENGTH) {
      return false;
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (buf.getByte(buf.readerIndex() + i) != MAGIC[i]) {
        return false;
      }
    }
    return true;
  }

  public byte[] encode(byte[] key) {
    byte[] out = new byte[kind == Kind.PING ? PING_LENGTH : PONG_LENGTH];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    int at = MAGIC.length;
    out[at++] = VERSION;
    out[at++] = (byte) (kind == Kind.PING ? 1 : 2);
    out[at++] = (byte) senderRole;
    System.arraycopy(txid, 0, out, at, TXID_LENGTH);
    at += TXID_LENGTH;
    for (int i = 7; i >= 0; i--) {
      out[at++] = (byte) (counter >>> (8 * i));
    }
    if (kind == Kind.PONG) {
      InetSocketAddress o = observed.orElseThrow(() -> new IllegalStateException("a pong says where the ping came from"));
      byte[] ip = o.getAddress().getAddress();
      if (ip.length == 4) {
        out[at + 10] = (byte) 0xff;
        out[at + 11] = (byte) 0xff;
        System.arraycopy(ip, 0, out, at + 12, 4);
      } else {
        System.arraycopy(ip, 0, out, at, 16);
      }
      out[at + 16] = (byte) (o.getPort() >> 8);
      out[at + 17] = (byte) o.getPort();
      at += 18;
    }
    System.arraycopy(mac(key, out, at), 0, out, at, MAC_LENGTH);
    return out;
  }

  /** Empty for anything that is not a well-formed packet with a valid MAC under {@code key}. */
  public static Optional<DiscoPacket> decode(byte[] key, byte[] in) {
    if (in.length != PING_LENGTH && in.length != PONG_LENGTH) {
      return Optional.empty();
    }
    if (!Arrays.equals(in, 0, MAGIC.length, MAGIC, 0, MAGIC.length) || in[MAGIC.length] != VERSION) {
      return Optional.empty();
    }
    int bodyEnd = in.length - MAC_LENGTH;
    if (!MessageDigest.isEqual(mac(key, in, bodyEnd), Arrays.copyOfRange(in, bodyEnd, in.length))) {
      return Optional.empty();
    }
    int at = MAGIC.length + 1;
    int kindByte = in[at++];
    int role = in[at++];
    if ((kindByte != 1 && kindByte != 2) || (role != 0 && role != 1)) {
      return Optional.empty();
    }
    Kind kind = kindByte == 1 ? Kind.PING : Kind.PONG;
    if ((kind == Kind.PING) != (in.length == PING_LENGTH)) {
      return Optional.empty();
    }
    byte[] txid = Arrays.copyOfRange(in, at, at + TXID_LENGTH);
    at += TXID_LENGTH;
    long counter = 0;
    for (int i = 0; i < 8; i++) {
      counter = (counter << 8) | (in[at++] & 0xff);
    }
    Optional<InetSocketAddress> observed = Optional.empty();
    if (kind == Kind.PONG) {
      try {
        InetAddress a = InetAddress.getByAddress(Arrays.copyOfRange(in, at, at + 16));
        int port = ((in[at + 16] & 0xff) << 8) | (in[at + 17] & 0xff);
        observed = Optional.of(new InetSocketAddress(a, port));
      } catch (UnknownHostException e) {
        return Optional.empty();
      }
    }
    return Optional.of(new DiscoPacket(kind, role, txid, counter, observed));
  }

  private static byte[] mac(byte[] key, byte[] data, int length) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(data, 0, length);
      return Arrays.copyOf(mac.doFinal(), MAC_LENGTH);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DiscoPacket d && kind == d.kind && senderRole == d.senderRole
        && Arrays.equals(txid, d.txid) && counter == d.counter && observed.equals(d.observed);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(txid);
  }
}
