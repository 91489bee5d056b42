package dev.derphole.derp.frame;

/** The reason byte of a PeerGone frame. */
public enum PeerGoneReason {
  /** 0x00: the peer's last connection to this server closed. */
  DISCONNECTED(0x00),
  /** 0x01: the server does not know that destination. */
  NOT_HERE(0x01),
  /** Any other value seen on the wire. */
  UNKNOWN(-1);

  private final int code;

  PeerGoneReason(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  static PeerGoneReason of(int b) {
    return switch (b) {
      case 0x00 -> DISCONNECTED;
      case 0x01 -> NOT_HERE;
      default -> UNKNOWN;
    };
  }
}
