package dev.derphole.derp.key;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class KeyPropertiesTest {

  @Property(tries = 200)
  void sealThenOpenReturnsTheMessage(
      @ForAll("rawKeys") byte[] senderRaw,
      @ForAll("rawKeys") byte[] receiverRaw,
      @ForAll("messages") byte[] message)
      throws BoxException {
    NodePrivateKey sender = NodePrivateKey.fromRaw(senderRaw);
    NodePrivateKey receiver = NodePrivateKey.fromRaw(receiverRaw);

    byte[] sealed = sender.seal(receiver.publicKey(), message);

    assertThat(sealed).hasSize(24 + 16 + message.length);
    assertThat(receiver.open(sender.publicKey(), sealed)).isEqualTo(message);
  }

  @Property(tries = 200)
  void bothSidesDeriveTheSameSharedKey(
      @ForAll("rawKeys") byte[] aRaw, @ForAll("rawKeys") byte[] bRaw) {
    NodePrivateKey a = NodePrivateKey.fromRaw(aRaw);
    NodePrivateKey b = NodePrivateKey.fromRaw(bRaw);
    assertThat(a.sharedKey(b.publicKey()).raw()).isEqualTo(b.sharedKey(a.publicKey()).raw());
  }

  @Property
  void publicKeyTextRoundTrips(@ForAll("rawKeys") byte[] raw) {
    NodePublicKey key = NodePublicKey.fromRaw(raw);
    assertThat(NodePublicKey.parse(key.toString())).isEqualTo(key);
    assertThat(NodePublicKey.parseUntyped(key.untypedHex())).isEqualTo(key);
    assertThat(NodePublicKey.parse(key.toString().toUpperCase().replace("NODEKEY:", "nodekey:")))
        .isEqualTo(key);
  }

  @Property
  void privateKeyTextRoundTrips(@ForAll("rawKeys") byte[] raw) {
    NodePrivateKey key = NodePrivateKey.fromRaw(raw);
    NodePrivateKey again = NodePrivateKey.parse(key.toText());
    assertThat(again.raw()).isEqualTo(key.raw());
    assertThat(again.publicKey()).isEqualTo(key.publicKey());
  }

  @Property
  void compareToAgreesWithEquals(@ForAll("rawKeys") byte[] a, @ForAll("rawKeys") byte[] b) {
    NodePublicKey ka = NodePublicKey.fromRaw(a);
    NodePublicKey kb = NodePublicKey.fromRaw(b);
    assertThat(ka.compareTo(kb) == 0).isEqualTo(ka.equals(kb));
    assertThat(Integer.signum(ka.compareTo(kb))).isEqualTo(-Integer.signum(kb.compareTo(ka)));
  }

  @Provide
  Arbitrary<byte[]> rawKeys() {
    return Arbitraries.bytes().array(byte[].class).ofSize(32);
  }

  @Provide
  Arbitrary<byte[]> messages() {
    return Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(2000);
  }
}
