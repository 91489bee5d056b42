package dev.derphole.derp.stun;

import java.util.Arrays;

/**
 * Walks the attributes of one STUN message, from the end of the header to the end its length
 * field gives. Each attribute is a TLV padded to a multiple of 4 bytes:
 *
 * <pre>
 *  0       2       4
 *  +-------+-------+---------------------------+-----------+
 *  | type  | length| value (length bytes)      | 0-3 pad   |
 *  +-------+-------+---------------------------+-----------+
 *  The padding is not counted in length.
 * </pre>
 *
 * <p>Use it as a cursor: {@code while (r.next()) { r.type() ... }}, then check
 * {@link #malformed()}. An attribute whose padded value runs past the end stops the walk and
 * marks the message malformed; bounds are checked here so callers can index the value freely.
 */
final class StunAttributeReader {

    private final byte[] packet;
    private final int end;
    private int position = Stun.HEADER_LENGTH;
    private int type;
    private int valueOffset;
    private int valueLength;
    private boolean malformed;

    /** @param end offset just past the message, at most {@code packet.length} */
    StunAttributeReader(byte[] packet, int end) {
        if (end < Stun.HEADER_LENGTH || end > packet.length) {
            throw new IllegalArgumentException("message end " + end + " outside [20, " + packet.length + "]");
        }
        this.packet = packet;
        this.end = end;
    }

    /** Moves to the next attribute; false at the end of the message or on a malformed one. */
    boolean next() {
        if (malformed || position == end) {
            return false;
        }
        if (end - position < 4) {
            malformed = true;
            return false;
        }
        int length = Stun.u16(packet, position + 2);
        int paddedLength = (length + 3) & ~3;
        if (paddedLength > end - position - 4) {
            malformed = true;
            return false;
        }
        type = Stun.u16(packet, position);
        valueOffset = position + 4;
        valueLength = length;
        position = valueOffset + paddedLength;
        return true;
    }

    /** True once the walk stopped on bytes that are not a whole attribute. */
    boolean malformed() {
        return malformed;
    }

    int type() {
        return type;
    }

    int valueOffset() {
        return valueOffset;
    }

    int valueLength() {
        return valueLength;
    }

    boolean valueEquals(byte[] expected) {
        return Arrays.equals(packet, valueOffset, valueOffset + valueLength, expected, 0, expected.length);
    }
}
