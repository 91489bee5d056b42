package dev.derphole.transport.portmap;

import dev.derphole.derp.net.IpLiteral;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
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

/** NAT-PMP messages against RFC 6886 byte layouts, round trips, and garbage. */
class NatPmpCodecTest {
  private static final HexFormat HEX = HexFormat.of();

  @Test
  void externalAddressRequestIsTwoBytes() {
    assertThat(HEX.formatHex(new NatPmpAddressRequest().encode())).isEqualTo("0000");
  }

  @Test
  void externalAddressResponseGolden() {
    String golden = "00" + "80" // version 0, op 128 = response to op 0
        + "0000" //                result: success
        + "00001234" //            seconds since the gateway's epoch
        + "cb007107"; //           203.0.113.7
    NatPmpAddressResponse response = new NatPmpAddressResponse(0, 0x1234, ipv4("203.0.113.7"));

    assertThat(HEX.formatHex(response.encode())).isEqualTo(golden);
    assertThat(NatPmpAddressResponse.decode(bytes(golden))).contains(response);
  }

  @Test
  void mapRequestGolden() {
    String golden = "00" + "01" // version 0, op 1 = map UDP
        + "0000" //                reserved
        + "a2a9" //                internal port 41641
        + "a2a9" //                suggested external port 41641
        + "00001c20"; //           requested lifetime 7200 s
    NatPmpMapRequest request = new NatPmpMapRequest(41641, 41641, 7200);

    assertThat(HEX.formatHex(request.encode())).isEqualTo(golden);
    assertThat(NatPmpMapRequest.decode(bytes(golden))).contains(request);
  }

  @Test
  void mapResponseGolden() {
    String golden = "00" + "81" // version 0, op 129 = response to op 1
        + "0000" //                result: success
        + "00001234" //            epoch
        + "a2a9" //                internal port 41641
        + "c350" //                mapped external port 50000
        + "00000e10"; //           lifetime granted: 3600 s
    NatPmpMapResponse response = new NatPmpMapResponse(0, 0x1234, 41641, 50000, 3600);

    assertThat(HEX.formatHex(response.encode())).isEqualTo(golden);
    assertThat(NatPmpMapResponse.decode(bytes(golden))).contains(response);
  }

  @Test
  void shortErrorResponsesDecodeWithZeroFields() {
    // RFC 6886 §3.5 "unsupported version", with erratum 3618's op 128: 8 bytes only.
    assertThat(NatPmpAddressResponse.decode(bytes("0080" + "0001" + "00000005")))
        .contains(new NatPmpAddressResponse(NatPmp.UNSUPPORTED_VERSION, 5, NatPmpAddressResponse.NONE));
    assertThat(NatPmpMapResponse.decode(bytes("0081" + "0002" + "00000005")))
        .contains(new NatPmpMapResponse(NatPmp.NOT_AUTHORIZED, 5, 0, 0, 0));
  }

  @Test
  void truncatedSuccessesAndWrongOpsAreNotResponses() {
    assertThat(NatPmpMapResponse.decode(bytes("0081" + "0000" + "00001234" + "a2a9"))).isEmpty();
    assertThat(NatPmpAddressResponse.decode(bytes("0080" + "0000" + "00001234"))).isEmpty();
    assertThat(NatPmpMapResponse.decode(bytes("0080" + "0000" + "00001234" + "a2a9c35000000e10"))).isEmpty();
    assertThat(NatPmpMapResponse.decode(bytes("0281" + "0000" + "00001234" + "a2a9c35000000e10"))).isEmpty();
    assertThat(NatPmpMapRequest.decode(bytes("0001" + "0000" + "a2a9a2a9"))).isEmpty();
  }

  @Test
  void resultCodesAreNamed() {
    assertThat(NatPmp.resultName(2)).isEqualTo("not authorized/refused (2)");
    assertThat(NatPmp.resultName(99)).isEqualTo("result code 99 (99)");
  }

  @Test
  void fieldsOutOfRangeAreRefusedByName() {
    assertThatThrownBy(() -> new NatPmpMapRequest(70000, 0, 0)).hasMessageContaining("internalPort");
    assertThatThrownBy(() -> new NatPmpMapRequest(1, 1, -1)).hasMessageContaining("lifetimeSeconds");
  }

  @Property
  void mapRequestRoundTrips(@ForAll @IntRange(max = 65535) int internal, @ForAll @IntRange(max = 65535) int external,
      @ForAll @LongRange(max = 0xffffffffL) long lifetime) {
    NatPmpMapRequest request = new NatPmpMapRequest(internal, external, lifetime);
    assertThat(request.encode()).hasSize(request.encodedLength());
    assertThat(NatPmpMapRequest.decode(ByteBuffer.wrap(request.encode()))).contains(request);
  }

  @Property
  void mapResponseRoundTrips(@ForAll @IntRange(max = 65535) int result, @ForAll @LongRange(max = 0xffffffffL) long epoch,
      @ForAll @IntRange(max = 65535) int internal, @ForAll @IntRange(max = 65535) int external,
      @ForAll @LongRange(max = 0xffffffffL) long lifetime) {
    NatPmpMapResponse response = new NatPmpMapResponse(result, epoch, internal, external, lifetime);
    assertThat(NatPmpMapResponse.decode(ByteBuffer.wrap(response.encode()))).contains(response);
  }

  @Property
  void addressResponseRoundTrips(@ForAll @IntRange(max = 65535) int result,
      @ForAll @LongRange(max = 0xffffffffL) long epoch, @ForAll @Size(4) byte[] address) throws UnknownHostException {
    NatPmpAddressResponse response =
        new NatPmpAddressResponse(result, epoch, (Inet4Address) InetAddress.getByAddress(address));
    assertThat(NatPmpAddressResponse.decode(ByteBuffer.wrap(response.encode()))).contains(response);
  }

  @Property(tries = 2000)
  void garbageNeverThrows(@ForAll @Size(max = 40) byte[] garbage) {
    NatPmpAddressRequest.decode(ByteBuffer.wrap(garbage));
    NatPmpAddressResponse.decode(ByteBuffer.wrap(garbage));
    NatPmpMapRequest.decode(ByteBuffer.wrap(garbage));
    NatPmpMapResponse.decode(ByteBuffer.wrap(garbage));
  }

  static ByteBuffer bytes(String hex) {
    return ByteBuffer.wrap(HEX.parseHex(hex));
  }

  static Inet4Address ipv4(String literal) {
    return (Inet4Address) IpLiteral.parseHost(literal).orElseThrow();
  }
}
