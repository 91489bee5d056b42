package dev.derphole.derp.frame;

/**
 * DERP frame types, protocol version 2. Each frame on the wire is
 *
 * <pre>
 *  +------+----------------+-------------------+
 *  | type | length (u32 BE)| payload (length)  |
 *  |  1B  |      4B        |                   |
 *  +------+----------------+-------------------+
 * </pre>
 *
 * The five header bytes are not counted in {@code length}. Unknown types are skipped by both sides.
 */
public enum FrameType {
  /** S→C: magic(8) "DERP🔑" + server public key(32) [+ ignored extra bytes]. */
  SERVER_KEY(0x01),
  /** C→S: client public key(32) + nonce(24) + NaCl box of the ClientInfo JSON. */
  CLIENT_INFO(0x02),
  /** S→C: nonce(24) + NaCl box of the ServerInfo JSON. */
  SERVER_INFO(0x03),
  /** C→S: destination key(32) + packet(0..65536). */
  SEND_PACKET(0x04),
  /** S→C: source key(32) + packet(0..65536). */
  RECV_PACKET(0x05),
  /** S→C: empty; no reply expected. */
  KEEP_ALIVE(0x06),
  /** C→S: 1 byte, 0x01 when this is the client's home region. */
  NOTE_PREFERRED(0x07),
  /** S→C: key(32) [+ reason(1)]; a missing reason reads as DISCONNECTED. */
  PEER_GONE(0x08),
  /** S→watcher: key(32) [+ ip(16) + port(2) [+ flags(1)]]. */
  PEER_PRESENT(0x09),
  /** mesh→S: source key(32) + destination key(32) + packet. */
  FORWARD_PACKET(0x0a),
  /** mesh→S: empty. */
  WATCH_CONNS(0x10),
  /** mesh→S: key(32). */
  CLOSE_PEER(0x11),
  /** either way: 8 opaque bytes (a server accepts 8..1000 and echoes the first 8). */
  PING(0x12),
  /** either way: the 8 bytes of the ping. */
  PONG(0x13),
  /** S→C: UTF-8 problem text; empty means healthy again. */
  HEALTH(0x14),
  /** S→C: reconnectIn ms(u32) + tryFor ms(u32). */
  RESTARTING(0x15);

  private static final FrameType[] BY_CODE = new FrameType[256];

  static {
    for (FrameType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;

  FrameType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The type for a wire byte, or {@code null} for a type this version does not know. */
  public static FrameType of(int code) {
    return BY_CODE[code & 0xff];
  }
}
