package dev.derphole.transport.portmap;

import java.nio.ByteBuffer;

/**
 * The unsigned big-endian fields of NAT-PMP and PCP messages, which Java only has signed: 8-bit
 * protocol numbers and PCP result codes, 16-bit ports and NAT-PMP result codes, 32-bit lifetimes
 * and epochs.
 */
final class UnsignedFields {
  private UnsignedFields() {}

  static int u16(ByteBuffer in) {
    return in.getShort() & 0xffff;
  }

  static long u32(ByteBuffer in) {
    return in.getInt() & 0xffffffffL;
  }

  static void checkU8(String name, int value) {
    if (value < 0 || value > 0xff) {
      throw new IllegalArgumentException(name + " must be 0..255, got " + value);
    }
  }

  static void checkU16(String name, int value) {
    if (value < 0 || value > 0xffff) {
      throw new IllegalArgumentException(name + " must be 0..65535, got " + value);
    }
  }

  static void checkU32(String name, long value) {
    if (value < 0 || value > 0xffffffffL) {
      throw new IllegalArgumentException(name + " must fit in 32 unsigned bits, got " + value);
    }
  }
}
