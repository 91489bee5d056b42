package dev.derphole.derp.key;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Known-answer tests for the NaCl box: the classic NaCl vector and DERP-shaped frames generated
 * with libsodium 1.0.18 (docs: derp-protocol.md §8 C). Client = RFC 7748 Alice, server = Bob.
 */
class BoxVectorsTest {
  private static final HexFormat HEX = HexFormat.of();

  private static final NodePrivateKey ALICE = KnownKeys.alice();
  private static final NodePrivateKey BOB = KnownKeys.bob();

  /** N1 = 00 01 02 ... 17. */
  private static final byte[] N1 = HEX.parseHex("000102030405060708090a0b0c0d0e0f1011121314151617");
  /** N2 = ff fe fd ... e8. */
  private static final byte[] N2 = HEX.parseHex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8");

  @Test
  void naclClassicBoxVector() throws BoxException {
    // NaCl tests/box.c and box2.c (also in libsodium's test suite): alicesk -> bobpk.
    byte[] nonce = HEX.parseHex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
    byte[] message =
        HEX.parseHex(
            "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc"
                + "e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb31"
                + "0e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde"
                + "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864"
                + "5e0705");
    String box =
        "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce"
            + "48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c972"
            + "71d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae"
            + "90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b3"
            + "7973f622a43d14a6599b1f654cb45a74e355a5";
    assertThat(message).hasSize(131);

    byte[] sealed = ALICE.sharedKey(BOB.publicKey()).seal(nonce, message);
    assertThat(HEX.formatHex(sealed)).isEqualTo(box);
    assertThat(BOB.sharedKey(ALICE.publicKey()).open(nonce, sealed)).isEqualTo(message);
  }

  @Test
  void clientInfoFrame() throws BoxException {
    // type 02 | len 0x69 = 105 | client key(32) | nonce(24) | box(16 + 33)
    String frame =
        "0200000069"
            + "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
            + "000102030405060708090a0b0c0d0e0f1011121314151617"
            + "39a83465456b7b50331fde35dd22274b7e6c26c069053c122ea5a24c8fa8fbbf"
            + "8f83ba8b258ec2ea09f11d5c27469d7977";
    byte[] json = utf8("{\"version\":2,\"CanAckPings\":false}");
    assertThat(json).hasSize(33);

    byte[] box = ALICE.sharedKey(BOB.publicKey()).seal(N1, json);
    String built = "0200000069" + ALICE.publicKey().untypedHex() + HEX.formatHex(N1) + hex(box);
    assertThat(built).isEqualTo(frame);

    // The server's view: client key, then nonce ‖ box.
    byte[] payload = Arrays.copyOfRange(HEX.parseHex(frame), 5, 5 + 0x69);
    NodePublicKey client = NodePublicKey.fromRaw(Arrays.copyOf(payload, 32));
    assertThat(client).isEqualTo(ALICE.publicKey());
    byte[] opened = BOB.open(client, Arrays.copyOfRange(payload, 32, payload.length));
    assertThat(opened).isEqualTo(json);
  }

  @Test
  void serverInfoFrame() throws BoxException {
    // type 03 | len 0x35 = 53 | nonce(24) | box(16 + 13)
    String frame =
        "0300000035"
            + "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8"
            + "c2ee0759a8f947da6ca0ce3c931045f2d439a05b8091aac44848dfce78";
    byte[] json = utf8("{\"version\":2}");

    byte[] box = BOB.sharedKey(ALICE.publicKey()).seal(N2, json);
    assertThat("0300000035" + HEX.formatHex(N2) + hex(box)).isEqualTo(frame);

    byte[] payload = Arrays.copyOfRange(HEX.parseHex(frame), 5, 5 + 0x35);
    assertThat(ALICE.open(BOB.publicKey(), payload)).isEqualTo(json);
  }

  @Test
  void emptyMessageIsTheTagAlone() throws BoxException {
    byte[] zeroNonce = new byte[24];
    byte[] box = ALICE.sharedKey(BOB.publicKey()).seal(zeroNonce, new byte[0]);
    assertThat(hex(box)).isEqualTo("f09f87802f1f5b6416a87bec83d22f40");
    assertThat(BOB.sharedKey(ALICE.publicKey()).open(zeroNonce, box)).isEmpty();
  }

  @Test
  void discoPingPacket() throws BoxException {
    // magic "TS💬"(6) | sender key(32) | nonce(24) | box(16 + 46)
    String packet =
        "5453f09f92ac"
            + "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
            + "000102030405060708090a0b0c0d0e0f1011121314151617"
            + "70923da0b990b11257582ab871a1a974044e51a71872507b478f9174a8863dfe"
            + "11cb50d0d2b3d806070f9304b170e3a3300f9143936599944102cc5f5581";
    // ping: type 01 | version 00 | TxID 01..0c | node key(32)
    String txId = "0102030405060708090a0b0c";
    byte[] ping = HEX.parseHex("0100" + txId + ALICE.publicKey().untypedHex());

    byte[] box = ALICE.sharedKey(BOB.publicKey()).seal(N1, ping);
    String built =
        "5453f09f92ac" + ALICE.publicKey().untypedHex() + HEX.formatHex(N1) + hex(box);
    assertThat(built).isEqualTo(packet).hasSize(2 * 124);

    byte[] nonceAndBox = Arrays.copyOfRange(HEX.parseHex(packet), 6 + 32, 124);
    assertThat(BOB.open(ALICE.publicKey(), nonceAndBox)).isEqualTo(ping);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String hex(byte[] b) {
    return HEX.formatHex(b);
  }
}
