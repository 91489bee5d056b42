package dev.derphole.derp.map;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Parses the {@code IPv4} and {@code IPv6} fields of a DERP node without ever touching DNS.
 *
 * <p>{@link InetAddress#getByName} falls back to a DNS lookup for anything it does not recognise as a
 * literal, so the text is screened first: dotted quads are parsed here, and only text that Java is
 * guaranteed to treat as an IPv6 literal (hex digits, colons and dots, with a colon present and a hex
 * digit or colon first) is handed to the JDK.
 */
final class IpLiteral {
    private IpLiteral() {}

    /**
     * The address if {@code text} is a strict dotted-quad IPv4 literal (no leading zeros, as Go's
     * {@code netip.ParseAddr} requires), otherwise null.
     */
    static Inet4Address ipv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 3 || (part.length() > 1 && part.charAt(0) == '0')) {
                return null;
            }
            int value = 0;
            for (int j = 0; j < part.length(); j++) {
                char c = part.charAt(j);
                if (c < '0' || c > '9') {
                    return null;
                }
                value = value * 10 + (c - '0');
            }
            if (value > 255) {
                return null;
            }
            bytes[i] = (byte) value;
        }
        try {
            return (Inet4Address) InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always a valid IPv4 address", e);
        }
    }

    /**
     * The address if {@code text} is an IPv6 literal (without brackets or zone), otherwise null. An
     * IPv4-mapped address such as {@code ::ffff:1.2.3.4} is not an IPv6 address for this purpose.
     */
    static Inet6Address ipv6(String text) {
        if (text.isEmpty() || text.indexOf(':') < 0) {
            return null;
        }
        char first = text.charAt(0);
        if (first != ':' && !isHexDigit(first)) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != ':' && c != '.' && !isHexDigit(c)) {
                return null;
            }
        }
        try {
            // Safe: with a colon present and a hex digit or colon first, the JDK parses a literal
            // and throws rather than resolving.
            InetAddress address = InetAddress.getByName(text);
            return address instanceof Inet6Address ? (Inet6Address) address : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** ASCII only: {@link Character#digit} would also accept other scripts' digits. */
    private static boolean isHexDigit(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}
