package dev.derphole.derp.frame;

import io.netty.buffer.ByteBuf;

/**
 * The 8 opaque bytes a {@link Frame.Ping} carries and its {@link Frame.Pong} echoes, held as one
 * big-endian {@code long} so equality and hashing come with the record.
 */
public record PingData(long bits) {
  public static final int LENGTH = 8;

  /** From exactly 8 bytes. */
  public static PingData of(byte[] data) {
    if (data.length != LENGTH) {
      throw new IllegalArgumentException("ping data must be 8 bytes, got " + data.length);
    }
    long v = 0;
    for (byte b : data) {
      v = (v << 8) | (b & 0xff);
    }
    return new PingData(v);
  }

  /** The first 8 bytes of {@code payload}, which the caller checked holds at least that many. */
  static PingData read(ByteBuf payload) {
    return new PingData(payload.getLong(payload.readerIndex()));
  }

  public byte[] bytes() {
    byte[] out = new byte[LENGTH];
    for (int i = 0; i < LENGTH; i++) {
      out[i] = (byte) (bits >>> (56 - 8 * i));
    }
    return out;
  }

  void writeTo(ByteBuf out) {
    out.writeLong(bits);
  }
}
