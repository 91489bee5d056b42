package dev.derphole.transport.path;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * Carries QUIC packets larger than one direct datagram over the direct path, split into segments
 * that each fit {@link #DATAGRAM}, and puts them back together on the other side.
 *
 * <p>Why: most of what a QUIC packet costs (quiche's framing, encryption and acknowledgement over
 * JNI, Netty's per-packet work) is paid per packet, not per byte, so QUIC runs with packets of up
 * to {@link #MAX_PACKET} bytes. The relay carries them whole (a DERP packet holds 64 KiB); a
 * path's MTU does not, and IP fragmentation is dropped by too many networks to be relied on, so
 * the direct path sends each large packet as up to {@link #MAX_SEGMENTS} datagrams of at most
 * {@link #DATAGRAM} bytes, the size every direct datagram had before. A lost segment loses its
 * packet, which QUIC resends like any other loss. Packets that fit one datagram (acknowledgements,
 * small writes) go as they are.
 *
 * <pre>
 *   0      1       2       3 ─ 6          7 ─
 *   0x9d | count | index | packet number | payload (SEGMENT_PAYLOAD bytes, the last one fewer)
 * </pre>
 *
 * The first byte has QUIC's form bit set and its fixed bit clear, which no QUIC packet between
 * two of our peers has (only version negotiation may, and versions always match); STUN and disco
 * start with their top two bits clear. A peer learns of the larger packets through QUIC's own
 * {@code max_udp_payload_size} transport parameter: a build without segments advertises 1350
 * bytes and is sent nothing larger, so it never sees a segment.
 */
final class Segments {
  static final byte MARK = (byte) 0x9d;
  static final int HEADER = 7;
  /** The largest datagram the direct path sends. */
  static final int DATAGRAM = 1350;
  static final int SEGMENT_PAYLOAD = DATAGRAM - HEADER;
  static final int MAX_SEGMENTS = 12;
  /** The largest QUIC packet the direct path can carry: {@value} bytes. */
  static final int MAX_PACKET = MAX_SEGMENTS * SEGMENT_PAYLOAD;
  /** Packets being put together at once; a new one takes the slot of the one {@value} before it. */
  static final int SLOTS = 64;

  private Segments() {}

  static boolean isSegment(ByteBuf b) {
    return b.readableBytes() > HEADER && b.getByte(b.readerIndex()) == MARK;
  }

  /**
   * Splits {@code packet} (more than {@link #DATAGRAM}, at most {@link #MAX_PACKET} bytes) into
   * segments numbered {@code number}, written back to back into one buffer: each segment is
   * {@link #DATAGRAM} bytes except the last, which is the layout UDP GSO sends in one call with
   * {@link #DATAGRAM} as its segment size. Releases {@code packet}.
   */
  static ByteBuf splitContiguous(ByteBuf packet, int number, ByteBufAllocator alloc) {
    try {
      int length = packet.readableBytes();
      if (length > MAX_PACKET) {
        throw new IllegalArgumentException("a " + length + "-byte packet is over the " + MAX_PACKET + "-byte limit");
      }
      int count = (length + SEGMENT_PAYLOAD - 1) / SEGMENT_PAYLOAD;
      ByteBuf out = alloc.directBuffer(length + count * HEADER);
      int from = packet.readerIndex();
      for (int i = 0; i < count; i++) {
        int n = Math.min(SEGMENT_PAYLOAD, length - i * SEGMENT_PAYLOAD);
        out.writeByte(MARK).writeByte(count).writeByte(i).writeInt(number);
        out.writeBytes(packet, from + i * SEGMENT_PAYLOAD, n);
      }
      return out;
    } finally {
      packet.release();
    }
  }

  /** {@link #splitContiguous}, as one buffer per segment (slices of one buffer). */
  static List<ByteBuf> split(ByteBuf packet, int number, ByteBufAllocator alloc) {
    ByteBuf all = splitContiguous(packet, number, alloc);
    List<ByteBuf> out = new ArrayList<>(all.readableBytes() / DATAGRAM + 1);
    while (all.isReadable()) {
      out.add(all.readRetainedSlice(Math.min(DATAGRAM, all.readableBytes())));
    }
    all.release();
    return out;
  }

  /**
   * Puts packets back together from their segments, in any order, ignoring duplicates and
   * anything malformed. Holds at most {@link #SLOTS} packets in progress (about 1 MiB); a packet
   * whose segments do not all come is dropped once its slot is needed again. One event loop only.
   */
  static final class Reassembly {
    private final ByteBufAllocator alloc;
    private final int[] number = new int[SLOTS];
    private final int[] count = new int[SLOTS];
    private final long[] have = new long[SLOTS];
    private final ByteBuf[] data = new ByteBuf[SLOTS];
    private long dropped;
    private long malformed;

    Reassembly(ByteBufAllocator alloc) {
      this.alloc = alloc;
    }

    /**
     * Takes one segment (and releases it); returns the whole packet once its last missing
     * segment arrived, else null.
     */
    ByteBuf add(ByteBuf segment) {
      try {
        int at = segment.readerIndex();
        int n = segment.getUnsignedByte(at + 1);
        int i = segment.getUnsignedByte(at + 2);
        int num = segment.getInt(at + 3);
        int payload = segment.readableBytes() - HEADER;
        boolean last = i == n - 1;
        if (segment.getByte(at) != MARK || n < 2 || n > MAX_SEGMENTS || i >= n
            || (last ? payload < 1 || payload > SEGMENT_PAYLOAD : payload != SEGMENT_PAYLOAD)) {
          malformed++;
          return null;
        }
        int slot = num & (SLOTS - 1);
        if (data[slot] == null || number[slot] != num || count[slot] != n) {
          if (data[slot] != null) {
            dropped++; // an older packet that never completed, or a clash: either way, lost
            data[slot].release();
          }
          data[slot] = alloc.directBuffer(n * SEGMENT_PAYLOAD);
          number[slot] = num;
          count[slot] = n;
          have[slot] = 0;
        }
        long bit = 1L << i;
        if ((have[slot] & bit) != 0) {
          return null; // a duplicate
        }
        have[slot] |= bit;
        ByteBuf b = data[slot];
        b.setBytes(i * SEGMENT_PAYLOAD, segment, at + HEADER, payload);
        if (last) {
          b.writerIndex((n - 1) * SEGMENT_PAYLOAD + payload);
        }
        if (have[slot] != (1L << n) - 1) {
          return null;
        }
        data[slot] = null;
        return b;
      } finally {
        segment.release();
      }
    }

    /** Packets given up on: a segment never came before the slot was needed again. */
    long dropped() {
      return dropped;
    }

    long malformed() {
      return malformed;
    }

    /** Releases whatever is still in progress. */
    void clear() {
      for (int s = 0; s < SLOTS; s++) {
        if (data[s] != null) {
          data[s].release();
          data[s] = null;
        }
      }
    }
  }
}
