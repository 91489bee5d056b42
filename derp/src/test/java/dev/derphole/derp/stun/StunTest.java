package dev.derphole.derp.stun;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Golden vectors from derp-protocol.md §8 and Tailscale's net/stun/stun_test.go, plus malformed input. */
class StunTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] TX_01_TO_0C = HEX.parseHex("0102030405060708090a0b0c");

    /** Vector D: Tailscale's request for txID 01..0c. */
    private static final String TAILSCALE_REQUEST = ""
            + "0001" + "0014"                   // binding request, 20 attribute bytes
            + "2112a442"                        // magic cookie
            + "0102030405060708090a0b0c"        // txID
            + "8022" + "0008" + "7461696c6e6f6465" // SOFTWARE "tailnode"
            + "8028" + "0004" + "b32c370f";     // FINGERPRINT

    @Test
    void bindingRequestIsTailscalesFortyBytes() {
        byte[] request = Stun.bindingRequest(TX_01_TO_0C);

        assertThat(HEX.formatHex(request)).isEqualTo(TAILSCALE_REQUEST);
        assertThat(request).hasSize(Stun.TAILSCALE_REQUEST_LENGTH);
    }

    @Test
    void bindingResponseForIpv4MatchesVectorD() {
        byte[] response = Stun.bindingResponse(TX_01_TO_0C, address("1.2.3.4", 5678));

        assertThat(HEX.formatHex(response)).isEqualTo(""
                + "0101" + "000c"               // binding success, 12 attribute bytes
                + "2112a442"                    // magic cookie
                + "0102030405060708090a0b0c"    // txID
                + "0020" + "0008"               // XOR-MAPPED-ADDRESS, 8 bytes
                + "00" + "01"                   // reserved, IPv4
                + "373c"                        // 5678 ^ 0x2112
                + "2010a746");                  // 1.2.3.4 ^ 21 12 a4 42
    }

    @Test
    void bindingResponseForIpv6XorsTheLastTwelveBytesWithTheTransactionId() {
        InetSocketAddress mapped = address("2001:db8::1", 443);

        byte[] response = Stun.bindingResponse(TX_01_TO_0C, mapped);

        assertThat(HEX.formatHex(response)).isEqualTo(""
                + "0101" + "0018"               // binding success, 24 attribute bytes
                + "2112a442"
                + "0102030405060708090a0b0c"
                + "0020" + "0014"               // XOR-MAPPED-ADDRESS, 20 bytes
                + "00" + "02"                   // reserved, IPv6
                + "20a9"                        // 443 ^ 0x2112
                + "0113a9fa"                    // 20 01 0d b8 ^ 21 12 a4 42
                + "0102030405060708090a0b0d");  // 00..00 01 ^ txID
        assertThat(Stun.parseBindingResponse(response))
                .contains(new Stun.BindingResponse(TX_01_TO_0C, mapped));
    }

    /** Responses from net/stun/stun_test.go: real servers and a few edge cases. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        google-1 | 0101000c2112a4422360b11e3ec68ffa93e08007002000080001c7866957856f | 2360b11e3ec68ffa93e08007 | 72.69.33.45 | 59028
        google-2 | 0101000c2112a442f9f121cbde7d7c75923ce271002000080001c7876957856f | f9f121cbde7d7c75923ce271 | 72.69.33.45 | 59029
        sipgate: MAPPED then XOR-MAPPED 0x8020 | 010100442112a442482eb64715e8b28eaead644400010008 0001e4ab4845212d 0004000800012710d90a4498 0005000800012711d9747a8a 802000080001c5b96957856f 802200105669766964612e6f726720302e393600 | 482eb64715e8b28eaead6444 | 72.69.33.45 | 58539
        powervoip: MAPPED-ADDRESS only | 010100242112a4427e57966829f444609d1deaa600010008 0001e9d34845212d 0004000800010d964d48a9d4 0005000800010d974d48a9d5 | 7e57966829f444609d1deaa6 | 72.69.33.45 | 59859
        pion: trailing bytes past the header length | 010100242112a442ebc2d36ef471217c4f3e308e8022000a656e64706f696e7465720000 002000080001ce665e12a443 80280004b699bb02 010100242112a442 | ebc2d36ef471217c4f3e308e | 127.0.0.1 | 61300
        stuntman: IPv6, MAPPED before XOR-MAPPED | 010100482112a44206f56685d28af3e69ce341e2000100140002 90ce260200d1b4cfc10038b231fffeef96f6 802b0014 00020d962604a880000200d10000000000c57001 00200014 0002b1dc0710a493b23aa785ea38c219620cd714 | 06f56685d28af3e69ce341e2 | 2602:d1:b4cf:c100:38b2:31ff:feef:96f6 | 37070
        software-a: padding after a 1-byte value | 010100142112a442ebc2d36ef471217c4f3e308e 8022000161000000 002000080001ce665e12a443 | ebc2d36ef471217c4f3e308e | 127.0.0.1 | 61300
        software-abc: padding after a 3-byte value | 010100142112a442ebc2d36ef471217c4f3e308e 8022000361626300 002000080001ce665e12a443 | ebc2d36ef471217c4f3e308e | 127.0.0.1 | 61300
        no-4in6: IPv4-mapped IPv6 comes back as IPv4 | 010100182112a4424fd5d202dcb37d31fc773306002000140002cd3d2112a4424fd5d202dcb382ce2dc3fcc7 | 4fd5d202dcb37d31fc773306 | 209.180.207.193 | 60463
        """)
    void parsesResponsesFromRealServers(String name, String packetHex, String txIdHex, String ip, int port) {
        byte[] packet = HEX.parseHex(packetHex.replace(" ", ""));

        assertThat(Stun.parseBindingResponse(packet))
                .contains(new Stun.BindingResponse(HEX.parseHex(txIdHex), address(ip, port)));
    }

    @Test
    void responseParserRejectsWrongTypeAndMissingAddress() {
        byte[] response = Stun.bindingResponse(TX_01_TO_0C, address("1.2.3.4", 5678));
        byte[] errorResponse = response.clone();
        Stun.putU16(errorResponse, 0, 0x0111);
        byte[] noAddress = HEX.parseHex("010100082112a4420102030405060708090a0b0c" + "8022000474657374");

        assertThat(Stun.parseBindingResponse(errorResponse)).isEmpty();
        assertThat(Stun.parseBindingResponse(Stun.bindingRequest(TX_01_TO_0C))).isEmpty();
        assertThat(Stun.parseBindingResponse(noAddress)).isEmpty();
    }

    @Test
    void responseParserRejectsUnknownFamilyAndShortAddress() {
        byte[] badFamily = Stun.bindingResponse(TX_01_TO_0C, address("1.2.3.4", 5678));
        badFamily[Stun.HEADER_LENGTH + 5] = 0x03;
        // IPv6 family but only 4 address bytes
        byte[] shortV6 = Stun.bindingResponse(TX_01_TO_0C, address("1.2.3.4", 5678));
        shortV6[Stun.HEADER_LENGTH + 5] = 0x02;

        assertThat(Stun.parseBindingResponse(badFamily)).isEmpty();
        assertThat(Stun.parseBindingResponse(shortV6)).isEmpty();
    }

    @Test
    void strictParserAcceptsTailscalesRequest() {
        byte[] request = HEX.parseHex(TAILSCALE_REQUEST);

        assertThat(Stun.isBindingRequest(request)).isTrue();
        assertThat(Stun.parseBindingRequest(request, true)).contains(new Stun.BindingRequest(TX_01_TO_0C));
        assertThat(Stun.parseBindingRequest(request, false)).contains(new Stun.BindingRequest(TX_01_TO_0C));
    }

    @Test
    void strictParserRejectsMissingSoftware() {
        // header + FINGERPRINT only, with a correct CRC
        byte[] request = withFingerprint(HEX.parseHex("000100082112a4420102030405060708090a0b0c"));

        assertThat(Stun.parseBindingRequest(request, true)).isEmpty();
        assertThat(Stun.parseBindingRequest(request, false)).isPresent();
    }

    @Test
    void strictParserRejectsWrongSoftware() {
        byte[] request = withFingerprint(HEX.parseHex("000100142112a4420102030405060708090a0b0c"
                + "8022000874616c6e6f646573")); // "talnodes"

        assertThat(Stun.parseBindingRequest(request, true)).isEmpty();
        assertThat(Stun.parseBindingRequest(request, false)).isPresent();
    }

    @Test
    void strictParserRejectsBadFingerprint() {
        byte[] request = HEX.parseHex(TAILSCALE_REQUEST);
        request[request.length - 1] ^= 1;

        assertThat(Stun.parseBindingRequest(request, true)).isEmpty();
        assertThat(Stun.parseBindingRequest(request, false)).isPresent();
    }

    @Test
    void strictParserRejectsFingerprintThatIsNotLast() {
        // FINGERPRINT (correct for the 20 bytes before it) then SOFTWARE "tailnode"
        byte[] request = Arrays.copyOf(HEX.parseHex("000100142112a4420102030405060708090a0b0c"), 40);
        putFingerprint(request, Stun.HEADER_LENGTH);
        System.arraycopy(HEX.parseHex("802200087461696c6e6f6465"), 0, request, 28, 12);

        assertThat(Stun.parseBindingRequest(request, true)).isEmpty();
        assertThat(Stun.parseBindingRequest(request, false)).isPresent();
    }

    @Test
    void requestParsersRejectOtherTypes() {
        byte[] indication = HEX.parseHex(TAILSCALE_REQUEST);
        indication[1] = 0x11; // binding indication 0x0011

        assertThat(Stun.isBindingRequest(indication)).isFalse();
        assertThat(Stun.parseBindingRequest(indication, true)).isEmpty();
        assertThat(Stun.parseBindingRequest(indication, false)).isEmpty();
        byte[] response = Stun.bindingResponse(TX_01_TO_0C, address("1.2.3.4", 5678));
        assertThat(Stun.parseBindingRequest(response, false)).isEmpty();
    }

    @Test
    void requestParsersIgnoreBytesPastTheHeaderLength() {
        byte[] request = Arrays.copyOf(HEX.parseHex(TAILSCALE_REQUEST), 45);

        assertThat(Stun.parseBindingRequest(request, true)).contains(new Stun.BindingRequest(TX_01_TO_0C));
    }

    /** TestIs from net/stun/stun_test.go. */
    @ParameterizedTest
    @CsvSource({
        "'', false",
        "0000000000000000000000000000000000000000, false",
        "000000002112a442000000000000000000000000, true",
        "000000002112a4420000000000000000000000, false",
        "000000002112a442000000000000000000000000666f6f, true",
        "f00000002112a442000000000000000000000000, false",
        "400000002112a442000000000000000000000000, false",
        "200000002112a442000000000000000000000000, true",
    })
    void looksLikeStunChecksTopBitsLengthAndCookie(String hex, boolean expected) {
        ByteBuf buf = Unpooled.buffer().writeByte(0xff).writeBytes(HEX.parseHex(hex));
        buf.readerIndex(1); // the check starts at the reader index, not 0
        try {
            assertThat(Stun.looksLikeStun(buf)).isEqualTo(expected);
            assertThat(buf.readerIndex()).isEqualTo(1);
            assertThat(Stun.looksLikeStun(HEX.parseHex(hex))).isEqualTo(expected);
        } finally {
            buf.release();
        }
    }

    @Test
    void truncatedAndOverlongPacketsParseAsEmpty() {
        byte[] request = HEX.parseHex(TAILSCALE_REQUEST);
        byte[] response = Stun.bindingResponse(TX_01_TO_0C, address("1.2.3.4", 5678));
        for (int length = 0; length < request.length; length++) {
            byte[] cut = Arrays.copyOf(request, length);
            assertThat(Stun.parseBindingRequest(cut, true)).as("request cut to %d", length).isEmpty();
            assertThat(Stun.parseBindingRequest(cut, false)).as("request cut to %d", length).isEmpty();
        }
        for (int length = 0; length < response.length; length++) {
            assertThat(Stun.parseBindingResponse(Arrays.copyOf(response, length)))
                    .as("response cut to %d", length).isEmpty();
        }
    }

    @Test
    void attributeLengthPastTheEndParsesAsEmpty() {
        byte[] request = HEX.parseHex(TAILSCALE_REQUEST);
        Stun.putU16(request, 22, 0xfff8); // SOFTWARE claims 65528 bytes
        byte[] response = Stun.bindingResponse(TX_01_TO_0C, address("1.2.3.4", 5678));
        Stun.putU16(response, 22, 0x000c); // XOR-MAPPED-ADDRESS claims 12 of 8 bytes
        byte[] oddPadding = Stun.bindingResponse(TX_01_TO_0C, address("1.2.3.4", 5678));
        Stun.putU16(oddPadding, 2, 0x000a); // header length not a multiple of 4: attribute padding cut

        assertThat(Stun.parseBindingRequest(request, false)).isEmpty();
        assertThat(Stun.parseBindingResponse(response)).isEmpty();
        assertThat(Stun.parseBindingResponse(oddPadding)).isEmpty();
    }

    @Test
    void headerLengthPastTheEndParsesAsEmpty() {
        byte[] response = Stun.bindingResponse(TX_01_TO_0C, address("1.2.3.4", 5678));
        Stun.putU16(response, 2, 0x0010);

        assertThat(Stun.parseBindingResponse(response)).isEmpty();
    }

    @Test
    void encodersRejectBadArgumentsNamingThem() {
        assertThatThrownBy(() -> Stun.bindingRequest(new byte[11]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got 11");
        assertThatThrownBy(() -> Stun.bindingResponse(TX_01_TO_0C, InetSocketAddress.createUnresolved("x", 1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unresolved");
    }

    @Test
    void transactionIdsAreFreshAndRecordsCopyThem() {
        byte[] tx = Stun.newTransactionId();
        Stun.BindingRequest request = new Stun.BindingRequest(tx);
        tx[0] ^= 1;

        assertThat(tx).hasSize(Stun.TRANSACTION_ID_LENGTH);
        assertThat(Stun.newTransactionId()).isNotEqualTo(Stun.newTransactionId());
        assertThat(request.transactionId()).isNotEqualTo(tx);
    }

    /** Sets the header length to cover a FINGERPRINT and appends one with the right CRC. */
    private static byte[] withFingerprint(byte[] message) {
        byte[] out = Arrays.copyOf(message, message.length + 8);
        Stun.putU16(out, 2, out.length - Stun.HEADER_LENGTH);
        putFingerprint(out, message.length);
        return out;
    }

    /** Writes a FINGERPRINT attribute at {@code at}, its CRC taken over {@code message[0, at)}. */
    private static void putFingerprint(byte[] message, int at) {
        Stun.putU16(message, at, Stun.ATTR_FINGERPRINT);
        Stun.putU16(message, at + 2, 4);
        CRC32 crc = new CRC32();
        crc.update(message, 0, at);
        Stun.putU32(message, at + 4, (int) crc.getValue() ^ 0x5354554e);
    }

    static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(ip, e);
        }
    }
}
