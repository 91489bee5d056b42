package dev.derphole.derp.stun;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * The STUN (RFC 5389) subset Tailscale speaks: the binding request its nodes send and the binding
 * response derper sends back. Pure codec over {@code byte[]}; no sockets.
 *
 * <p>Every STUN message starts with a 20-byte header; all fields are big-endian:
 *
 * <pre>
 *  0       2       4               8                                 20
 *  +-------+-------+---------------+---------------------------------+
 *  | type  | length| 21 12 a4 42   | transaction ID (12 bytes)       |
 *  +-------+-------+---------------+---------------------------------+
 *  type    top 2 bits are 0; 0x0001 = binding request, 0x0101 = binding success response
 *  length  number of attribute bytes after the header, padding included (a multiple of 4)
 * </pre>
 *
 * <p>The attributes follow (see {@link StunAttributeReader}). Tailscale's request is exactly 40
 * bytes:
 *
 * <pre>
 *  00 01 00 14 21 12 a4 42 [txID 12]        header: binding request, 20 attribute bytes
 *  80 22 00 08 74 61 69 6c 6e 6f 64 65      SOFTWARE "tailnode" (8 bytes, so no padding)
 *  80 28 00 04 [crc 4]                      FINGERPRINT = CRC-32(bytes 0..31) ^ 0x5354554e
 * </pre>
 *
 * <p>derper's response is 32 (IPv4) or 44 (IPv6) bytes:
 *
 * <pre>
 *  01 01 00 0c|00 18 21 12 a4 42 [txID 12]  header: binding success, 12 or 24 attribute bytes
 *  00 20 00 08|00 14 [value]                XOR-MAPPED-ADDRESS (see {@link StunAddress})
 * </pre>
 *
 * <p>Parsers never throw on malformed input: they return {@link Optional#empty()}. Bytes past
 * the header's length are ignored.
 */
public final class Stun {

    /** Bytes in every STUN header. */
    public static final int HEADER_LENGTH = 20;
    /** The RFC 5389 magic cookie, at offset 4 of every header. */
    public static final int MAGIC_COOKIE = 0x2112A442;
    /** Bytes in a transaction ID. */
    public static final int TRANSACTION_ID_LENGTH = 12;
    /** The UDP port STUN servers (derper included) listen on. */
    public static final int DEFAULT_PORT = 3478;
    /** Bytes in the request {@link #bindingRequest} builds. */
    public static final int TAILSCALE_REQUEST_LENGTH = 40;

    static final int TYPE_BINDING_REQUEST = 0x0001;
    static final int TYPE_BINDING_SUCCESS = 0x0101;

    static final int ATTR_MAPPED_ADDRESS = 0x0001;
    static final int ATTR_XOR_MAPPED_ADDRESS = 0x0020;
    /** XOR-MAPPED-ADDRESS in the comprehension-optional range; not in the RFC, but servers send it. */
    static final int ATTR_XOR_MAPPED_ADDRESS_ALT = 0x8020;
    static final int ATTR_SOFTWARE = 0x8022;
    static final int ATTR_FINGERPRINT = 0x8028;

    /** The SOFTWARE value derper insists on before it answers. */
    private static final byte[] TAILSCALE_SOFTWARE = "tailnode".getBytes(StandardCharsets.US_ASCII);
    /** RFC 5389 §15.5: the CRC-32 in FINGERPRINT is XOR'd with "STUN". */
    private static final int FINGERPRINT_XOR = 0x5354554e;

    private static final SecureRandom RANDOM = new SecureRandom();

    private Stun() {}

    /** Returns 12 fresh random bytes for a transaction ID. */
    public static byte[] newTransactionId() {
        byte[] txId = new byte[TRANSACTION_ID_LENGTH];
        RANDOM.nextBytes(txId);
        return txId;
    }

    /**
     * Builds the 40-byte binding request Tailscale sends: SOFTWARE "tailnode", then FINGERPRINT.
     * derper ignores requests without both.
     */
    public static byte[] bindingRequest(byte[] txId12) {
        checkTransactionId(txId12);
        byte[] out = new byte[TAILSCALE_REQUEST_LENGTH];
        writeHeader(out, TYPE_BINDING_REQUEST, TAILSCALE_REQUEST_LENGTH - HEADER_LENGTH, txId12);
        int at = HEADER_LENGTH;
        putU16(out, at, ATTR_SOFTWARE);
        putU16(out, at + 2, TAILSCALE_SOFTWARE.length);
        System.arraycopy(TAILSCALE_SOFTWARE, 0, out, at + 4, TAILSCALE_SOFTWARE.length);
        at += 4 + TAILSCALE_SOFTWARE.length;
        // The header length already counts these 8 bytes when the CRC is taken, as RFC 5389 asks.
        putU16(out, at, ATTR_FINGERPRINT);
        putU16(out, at + 2, 4);
        putU32(out, at + 4, fingerprint(out, at));
        return out;
    }

    /**
     * Whether the readable bytes look like a STUN message: at least 20 of them, the top 2 bits
     * zero and the magic cookie at offset 4. Cheap enough to demultiplex STUN from other traffic
     * on one UDP socket. Does not move the buffer's indexes.
     */
    public static boolean looksLikeStun(ByteBuf buf) {
        int at = buf.readerIndex();
        return buf.readableBytes() >= HEADER_LENGTH
                && (buf.getByte(at) & 0xc0) == 0
                && buf.getInt(at + 4) == MAGIC_COOKIE;
    }

    /** {@link #looksLikeStun(ByteBuf)} for a whole array. */
    static boolean looksLikeStun(byte[] packet) {
        return packet.length >= HEADER_LENGTH
                && (packet[0] & 0xc0) == 0
                && u32(packet, 4) == MAGIC_COOKIE;
    }

    /**
     * Whether the packet looks like STUN and its type is binding request. The attributes are not
     * checked; {@link #parseBindingRequest} does that.
     */
    public static boolean isBindingRequest(byte[] packet) {
        return looksLikeStun(packet) && u16(packet, 0) == TYPE_BINDING_REQUEST;
    }

    /**
     * Parses a binding request.
     *
     * @param strictTailscale {@code true} for derper's rules: some attribute is SOFTWARE
     *     "tailnode", the last attribute is FINGERPRINT and its CRC is right. {@code false}
     *     accepts any well-formed binding request.
     * @return the request, or empty if the packet is not one (never throws on malformed input)
     */
    public static Optional<BindingRequest> parseBindingRequest(byte[] packet, boolean strictTailscale) {
        int end = messageEnd(packet);
        if (end < 0 || u16(packet, 0) != TYPE_BINDING_REQUEST) {
            return Optional.empty();
        }
        boolean tailnode = false;
        int lastType = -1;
        int lastOffset = 0;
        int lastLength = 0;
        StunAttributeReader attributes = new StunAttributeReader(packet, end);
        while (attributes.next()) {
            if (attributes.type() == ATTR_SOFTWARE && attributes.valueEquals(TAILSCALE_SOFTWARE)) {
                tailnode = true;
            }
            lastType = attributes.type();
            lastOffset = attributes.valueOffset();
            lastLength = attributes.valueLength();
        }
        if (attributes.malformed()) {
            return Optional.empty();
        }
        if (strictTailscale) {
            boolean fingerprintLast = lastType == ATTR_FINGERPRINT && lastLength == 4;
            if (!tailnode
                    || !fingerprintLast
                    || u32(packet, lastOffset) != fingerprint(packet, lastOffset - 4)) {
                return Optional.empty();
            }
        }
        return Optional.of(new BindingRequest(transactionId(packet)));
    }

    /**
     * Builds the binding success response derper sends: one XOR-MAPPED-ADDRESS (0x0020) holding
     * {@code mapped}, 12 attribute bytes for IPv4 and 24 for IPv6, nothing else.
     */
    public static byte[] bindingResponse(byte[] txId12, InetSocketAddress mapped) {
        checkTransactionId(txId12);
        Objects.requireNonNull(mapped, "mapped");
        if (mapped.isUnresolved()) {
            throw new IllegalArgumentException("mapped address is unresolved: " + mapped);
        }
        int valueLength = StunAddress.encodedLength(mapped.getAddress());
        byte[] out = new byte[HEADER_LENGTH + 4 + valueLength];
        writeHeader(out, TYPE_BINDING_SUCCESS, 4 + valueLength, txId12);
        putU16(out, HEADER_LENGTH, ATTR_XOR_MAPPED_ADDRESS);
        putU16(out, HEADER_LENGTH + 2, valueLength);
        StunAddress.encodeXor(out, HEADER_LENGTH + 4, mapped, txId12);
        return out;
    }

    /**
     * Parses a binding success response. The address comes from XOR-MAPPED-ADDRESS (0x0020 or
     * 0x8020), else from MAPPED-ADDRESS (0x0001); an IPv4-mapped IPv6 address comes back as IPv4.
     *
     * @return the response, or empty if the packet is not a well-formed binding success response
     *     with an address (never throws on malformed input)
     */
    public static Optional<BindingResponse> parseBindingResponse(byte[] packet) {
        int end = messageEnd(packet);
        if (end < 0 || u16(packet, 0) != TYPE_BINDING_SUCCESS) {
            return Optional.empty();
        }
        byte[] txId = transactionId(packet);
        InetSocketAddress xorMapped = null;
        InetSocketAddress mapped = null;
        StunAttributeReader attributes = new StunAttributeReader(packet, end);
        while (attributes.next()) {
            switch (attributes.type()) {
                case ATTR_XOR_MAPPED_ADDRESS, ATTR_XOR_MAPPED_ADDRESS_ALT -> {
                    xorMapped = StunAddress.decodeXor(
                            packet, attributes.valueOffset(), attributes.valueLength(), txId);
                    if (xorMapped == null) {
                        return Optional.empty();
                    }
                }
                case ATTR_MAPPED_ADDRESS -> {
                    mapped = StunAddress.decode(packet, attributes.valueOffset(), attributes.valueLength());
                    if (mapped == null) {
                        return Optional.empty();
                    }
                }
                default -> { } // comprehension-optional for a client that only wants its address
            }
        }
        if (attributes.malformed()) {
            return Optional.empty();
        }
        InetSocketAddress address = xorMapped != null ? xorMapped : mapped;
        return address == null ? Optional.empty() : Optional.of(new BindingResponse(txId, address));
    }

    /** A binding request, identified by its transaction ID. */
    public record BindingRequest(byte[] transactionId) {
        public BindingRequest {
            transactionId = checkTransactionId(transactionId).clone();
        }

        @Override
        public byte[] transactionId() {
            return transactionId.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BindingRequest other && Arrays.equals(transactionId, other.transactionId);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(transactionId);
        }

        @Override
        public String toString() {
            return "BindingRequest[" + HexFormat.of().formatHex(transactionId) + "]";
        }
    }

    /** A binding success response: the transaction ID and the address the server saw. */
    public record BindingResponse(byte[] transactionId, InetSocketAddress mappedAddress) {
        public BindingResponse {
            transactionId = checkTransactionId(transactionId).clone();
            Objects.requireNonNull(mappedAddress, "mappedAddress");
        }

        @Override
        public byte[] transactionId() {
            return transactionId.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BindingResponse other
                    && Arrays.equals(transactionId, other.transactionId)
                    && mappedAddress.equals(other.mappedAddress);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(transactionId) + mappedAddress.hashCode();
        }

        @Override
        public String toString() {
            return "BindingResponse[" + HexFormat.of().formatHex(transactionId) + " " + mappedAddress + "]";
        }
    }

    /**
     * The offset just past the message (header + its length field), or -1 if the packet does not
     * look like STUN or is shorter than its header says.
     */
    private static int messageEnd(byte[] packet) {
        if (!looksLikeStun(packet)) {
            return -1;
        }
        int end = HEADER_LENGTH + u16(packet, 2);
        return end <= packet.length ? end : -1;
    }

    private static byte[] transactionId(byte[] packet) {
        return Arrays.copyOfRange(packet, 8, 8 + TRANSACTION_ID_LENGTH);
    }

    private static void writeHeader(byte[] out, int type, int attributesLength, byte[] txId) {
        putU16(out, 0, type);
        putU16(out, 2, attributesLength);
        putU32(out, 4, MAGIC_COOKIE);
        System.arraycopy(txId, 0, out, 8, TRANSACTION_ID_LENGTH);
    }

    /** CRC-32/IEEE of {@code packet[0, length)} XOR "STUN" (RFC 5389 §15.5). */
    private static int fingerprint(byte[] packet, int length) {
        CRC32 crc = new CRC32();
        crc.update(packet, 0, length);
        return (int) crc.getValue() ^ FINGERPRINT_XOR;
    }

    private static byte[] checkTransactionId(byte[] txId) {
        Objects.requireNonNull(txId, "transaction ID");
        if (txId.length != TRANSACTION_ID_LENGTH) {
            throw new IllegalArgumentException(
                    "transaction ID must be " + TRANSACTION_ID_LENGTH + " bytes, got " + txId.length);
        }
        return txId;
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }

    static int u32(byte[] b, int at) {
        return u16(b, at) << 16 | u16(b, at + 2);
    }

    static void putU16(byte[] b, int at, int value) {
        b[at] = (byte) (value >>> 8);
        b[at + 1] = (byte) value;
    }

    static void putU32(byte[] b, int at, int value) {
        putU16(b, at, value >>> 16);
        putU16(b, at + 2, value);
    }
}
