package dev.derphole.derp.frame;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Protocol facts of DERP v2 that both the client and the server need. */
public final class DerpProtocol {
  private DerpProtocol() {}

  public static final int PROTOCOL_VERSION = 2;
  /** "DERP" followed by the UTF-8 key emoji: 44 45 52 50 f0 9f 94 91. */
  public static final byte[] MAGIC = "DERP\uD83D\uDD11".getBytes(StandardCharsets.UTF_8);

  public static final int HEADER_LENGTH = 5;
  public static final int KEY_LENGTH = 32;
  public static final int NONCE_LENGTH = 24;
  /** Largest packet a SendPacket/RecvPacket may carry; the 32-byte key is not counted. */
  public static final int MAX_PACKET_SIZE = 64 << 10;
  /** Largest ClientInfo frame a server reads. */
  public static final int MAX_CLIENT_INFO_LENGTH = 256 << 10;
  /** Smallest ClientInfo: key + nonce (a box holds at least its 16-byte tag). */
  public static final int MIN_CLIENT_INFO_LENGTH = KEY_LENGTH + NONCE_LENGTH;
  /** Largest frame a client accepts (Go's client fails on anything larger). */
  public static final int MAX_CLIENT_FRAME_LENGTH = 1 << 20;
  /** Largest frame a server accepts from an authenticated client: a full ForwardPacket. */
  public static final int MAX_SERVER_FRAME_LENGTH = 2 * KEY_LENGTH + MAX_PACKET_SIZE;
  public static final int MIN_PING_LENGTH = 8;
  public static final int MAX_PING_LENGTH = 1000;

  /** Server keep-alive period; a jitter of [0, 5) s is added per connection. */
  public static final Duration KEEP_ALIVE = Duration.ofSeconds(60);
  public static final Duration KEEP_ALIVE_JITTER = Duration.ofSeconds(5);
  /** A client that hears nothing for this long (two keep-alives) treats the connection as dead. */
  public static final Duration CLIENT_READ_TIMEOUT = Duration.ofSeconds(120);
  /** Server: time allowed from accept until the ClientInfo is verified. */
  public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  /** Disco packets start with "TS💬" and are at least 62 bytes long. */
  public static final byte[] DISCO_MAGIC = "TS\uD83D\uDCAC".getBytes(StandardCharsets.UTF_8);
  public static final int DISCO_MIN_LENGTH = 62;
}
