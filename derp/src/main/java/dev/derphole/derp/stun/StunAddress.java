package dev.derphole.derp.stun;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The value of a MAPPED-ADDRESS (0x0001) or XOR-MAPPED-ADDRESS (0x0020, 0x8020) attribute:
 *
 * <pre>
 *  0       1       2               4
 *  +-------+-------+---------------+-------------------------------+
 *  | 00    | family| port          | address (4 or 16 bytes)       |
 *  +-------+-------+---------------+-------------------------------+
 *  family  01 = IPv4 (value is 8 bytes), 02 = IPv6 (value is 20 bytes)
 * </pre>
 *
 * <p>In XOR-MAPPED-ADDRESS the port is XOR'd with the top half of the magic cookie (0x2112), and
 * the address with the 16 bytes {@code 21 12 a4 42 ‖ transaction ID}: an IPv4 address uses only
 * the cookie, an IPv6 address the cookie then the transaction ID. MAPPED-ADDRESS is plain.
 */
final class StunAddress {

    private static final int FAMILY_IPV4 = 0x01;
    private static final int FAMILY_IPV6 = 0x02;

    private StunAddress() {}

    /** Bytes in the attribute value for this address: 8 for IPv4, 20 for IPv6. */
    static int encodedLength(InetAddress address) {
        return 4 + address.getAddress().length;
    }

    /** Writes the XOR-MAPPED-ADDRESS value of {@code address} at {@code out[offset]}. */
    static void encodeXor(byte[] out, int offset, InetSocketAddress address, byte[] txId) {
        byte[] ip = address.getAddress().getAddress();
        out[offset] = 0;
        out[offset + 1] = (byte) (ip.length == 4 ? FAMILY_IPV4 : FAMILY_IPV6);
        Stun.putU16(out, offset + 2, address.getPort() ^ (Stun.MAGIC_COOKIE >>> 16));
        for (int i = 0; i < ip.length; i++) {
            out[offset + 4 + i] = (byte) (ip[i] ^ xorMask(i, txId));
        }
    }

    /** Reads an XOR-MAPPED-ADDRESS value; null if it is too short or the family is unknown. */
    static InetSocketAddress decodeXor(byte[] in, int offset, int length, byte[] txId) {
        return decode(in, offset, length, txId);
    }

    /** Reads a MAPPED-ADDRESS value; null if it is too short or the family is unknown. */
    static InetSocketAddress decode(byte[] in, int offset, int length) {
        return decode(in, offset, length, null);
    }

    /** @param txId the transaction ID to un-XOR with, or null for a plain MAPPED-ADDRESS */
    private static InetSocketAddress decode(byte[] in, int offset, int length, byte[] txId) {
        if (length < 4) {
            return null;
        }
        int ipLength = switch (in[offset + 1]) {
            case FAMILY_IPV4 -> 4;
            case FAMILY_IPV6 -> 16;
            default -> -1;
        };
        if (ipLength < 0 || length < 4 + ipLength) {
            return null;
        }
        int port = Stun.u16(in, offset + 2);
        byte[] ip = new byte[ipLength];
        for (int i = 0; i < ipLength; i++) {
            ip[i] = (byte) (in[offset + 4 + i] ^ (txId == null ? 0 : xorMask(i, txId)));
        }
        if (txId != null) {
            port ^= Stun.MAGIC_COOKIE >>> 16;
        }
        return new InetSocketAddress(toInetAddress(ip), port);
    }

    /** Byte {@code i} of {@code 21 12 a4 42 ‖ txID}. */
    private static int xorMask(int i, byte[] txId) {
        return i < 4 ? Stun.MAGIC_COOKIE >>> (24 - 8 * i) & 0xff : txId[i - 4];
    }

    /**
     * The address for 4 or 16 bytes. {@link InetAddress#getByAddress(byte[])} returns an
     * {@code Inet4Address} for {@code ::ffff:a.b.c.d}, which is the unmapping Tailscale does.
     */
    private static InetAddress toInetAddress(byte[] ip) {
        try {
            return InetAddress.getByAddress(ip);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("an address of " + ip.length + " bytes was refused", e);
        }
    }
}
