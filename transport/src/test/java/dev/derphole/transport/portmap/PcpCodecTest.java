package dev.derphole.transport.portmap;

import static dev.derphole.transport.portmap.NatPmpCodecTest.bytes;
import static dev.derphole.transport.portmap.NatPmpCodecTest.ipv4;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** PCP MAP messages against RFC 6887 byte layouts, round trips, and garbage. */
class PcpCodecTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final String NONCE = "0102030405060708090a0b0c";
  private static final PcpNonce NONCE_VALUE = new PcpNonce(HEX.parseHex(NONCE));

  @Test
  void mapRequestGolden() {
    String golden = "02" + "01" //                       version 2, R=0, opcode MAP
        + "0000" //                                       reserved
        + "00001c20" //                                   requested lifetime 7200 s
        + "00000000000000000000ffff" + "c0a80114" //      client IP ::ffff:192.168.1.20
        + NONCE //                                        mapping nonce
        + "11" + "000000" //                              protocol 17 (UDP), reserved
        + "a2a9" + "a2a9" //                              internal port, suggested external port 41641
        + "00000000000000000000ffff" + "00000000"; //     suggested external IP ::ffff:0.0.0.0 (any)
    PcpMapRequest request = new PcpMapRequest(7200, ipv4("192.168.1.20"), NONCE_VALUE, 17, 41641, 41641,
        Pcp.NO_ADDRESS);

    assertThat(HEX.formatHex(request.encode())).isEqualTo(golden);
    assertThat(request.encode()).hasSize(60);
    assertThat(PcpMapRequest.decode(bytes(golden))).contains(request);
  }

  @Test
  void mapResponseGolden() {
    String golden = "02" + "81" + "00" + "00" //        version 2, R=1 + MAP, reserved, SUCCESS
        + "00001c20" //                                   lifetime 7200 s
        + "00001234" //                                   epoch time
        + "000000000000000000000000" //                   reserved
        + NONCE //                                        the request's nonce
        + "11" + "000000" //                              UDP, reserved
        + "a2a9" + "c350" //                              internal 41641, assigned external 50000
        + "00000000000000000000ffff" + "cb007107"; //     assigned external IP 203.0.113.7
    PcpMapResponse response = new PcpMapResponse(0, 7200, 0x1234, NONCE_VALUE, 17, 41641, 50000,
        ipv4("203.0.113.7"));

    assertThat(HEX.formatHex(response.encode())).isEqualTo(golden);
    assertThat(PcpMapResponse.decode(bytes(golden))).contains(response);
  }

  @Test
  void headerOnlyErrorDecodesWithoutNonce() {
    String golden = "02" + "81" + "00" + "02" //  NOT_AUTHORIZED
        + "00000078" + "00001234" + "000000000000000000000000";

    assertThat(PcpMapResponse.decode(bytes(golden)))
        .contains(new PcpMapResponse(Pcp.NOT_AUTHORIZED, 120, 0x1234, null, 0, 0, 0, Pcp.NO_ADDRESS));
    assertThat(HEX.formatHex(new PcpMapResponse(2, 120, 0x1234, null, 0, 0, 0, Pcp.NO_ADDRESS).encode()))
        .isEqualTo(golden);
  }

  @Test
  void lengthsRfc6887RejectAreNotResponses() {
    String valid = HEX.formatHex(new PcpMapResponse(0, 7200, 1, NONCE_VALUE, 17, 1, 2, ipv4("203.0.113.7")).encode());
    assertThat(PcpMapResponse.decode(bytes(valid + "00"))).as("not a multiple of 4").isEmpty();
    assertThat(PcpMapResponse.decode(bytes(valid.substring(0, 96)))).as("success cut short").isEmpty();
    assertThat(PcpMapResponse.decode(bytes(valid + "00".repeat(1100)))).as("longer than 1100").isEmpty();
    assertThat(PcpMapResponse.decode(bytes("01" + valid.substring(2)))).as("version 1").isEmpty();
    assertThat(PcpMapResponse.decode(bytes(valid + "00000000"))).as("an option's worth more").isPresent();
  }

  @Test
  void resultCodesAreNamed() {
    assertThat(Pcp.resultName(Pcp.NO_RESOURCES)).isEqualTo("NO_RESOURCES (8)");
    assertThat(Pcp.resultName(200)).isEqualTo("result code (200)");
  }

  @Property
  void mapRequestRoundTrips(@ForAll @LongRange(max = 0xffffffffL) long lifetime, @ForAll @Size(4) byte[] client,
      @ForAll @Size(12) byte[] nonce, @ForAll @IntRange(max = 255) int protocol,
      @ForAll @IntRange(max = 65535) int internal, @ForAll @IntRange(max = 65535) int external,
      @ForAll @Size(16) byte[] suggested) throws UnknownHostException {
    PcpMapRequest request = new PcpMapRequest(lifetime, InetAddress.getByAddress(client), new PcpNonce(nonce),
        protocol, internal, external, InetAddress.getByAddress(suggested));
    assertThat(PcpMapRequest.decode(ByteBuffer.wrap(request.encode()))).contains(request);
  }

  @Property
  void mapResponseRoundTrips(@ForAll @IntRange(max = 255) int result, @ForAll @LongRange(max = 0xffffffffL) long lifetime,
      @ForAll @LongRange(max = 0xffffffffL) long epoch, @ForAll @Size(12) byte[] nonce,
      @ForAll @IntRange(max = 65535) int internal, @ForAll @IntRange(max = 65535) int external,
      @ForAll @Size(4) byte[] address) throws UnknownHostException {
    PcpMapResponse response = new PcpMapResponse(result, lifetime, epoch, new PcpNonce(nonce), 17, internal, external,
        InetAddress.getByAddress(address));
    assertThat(response.encode()).hasSize(response.encodedLength());
    assertThat(PcpMapResponse.decode(ByteBuffer.wrap(response.encode()))).contains(response);
  }

  @Property(tries = 2000)
  void garbageNeverThrows(@ForAll @Size(max = 128) byte[] garbage) {
    PcpMapRequest.decode(ByteBuffer.wrap(garbage));
    PcpMapResponse.decode(ByteBuffer.wrap(garbage));
  }

  /** Version and opcode right, so the field reads are reached. */
  @Property(tries = 2000)
  void pcpShapedGarbageNeverThrows(@ForAll @Size(min = 24, max = 128) byte[] garbage) {
    garbage[0] = 2;
    garbage[1] = (byte) 0x81;
    PcpMapResponse.decode(ByteBuffer.wrap(garbage));
    garbage[1] = 1;
    PcpMapRequest.decode(ByteBuffer.wrap(garbage));
  }
}
