package dev.derphole.derp.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A box that was changed in any way, or is opened with the wrong key, must not open. */
class BoxTamperTest {
  private final NodePrivateKey alice = NodePrivateKey.generate();
  private final NodePrivateKey bob = NodePrivateKey.generate();
  private final NodePrivateKey mallory = NodePrivateKey.generate();
  private final byte[] message =
      "{\"version\":2,\"CanAckPings\":true}".getBytes(StandardCharsets.UTF_8);

  // sealed = nonce(24) | tag(16) | ciphertext
  private final byte[] sealed = alice.seal(bob.publicKey(), message);

  @Test
  void untouchedBoxOpens() throws BoxException {
    assertThat(sealed).hasSize(24 + 16 + message.length);
    assertThat(bob.open(alice.publicKey(), sealed)).isEqualTo(message);
  }

  @Test
  void everySingleBitFlipIsRejected() {
    for (int bit = 0; bit < 8 * sealed.length; bit++) {
      byte[] bad = sealed.clone();
      bad[bit / 8] ^= (byte) (1 << (bit % 8));
      assertThatThrownBy(() -> bob.open(alice.publicKey(), bad))
          .as("bit %d", bit)
          .isInstanceOf(BoxException.class)
          .hasMessageContaining("failed authentication");
    }
  }

  @Test
  void flippedTagBitIsRejected() {
    byte[] bad = sealed.clone();
    bad[24] ^= 0x01;
    assertThatThrownBy(() -> bob.open(alice.publicKey(), bad)).isInstanceOf(BoxException.class);
  }

  @Test
  void flippedCiphertextBitIsRejected() {
    byte[] bad = sealed.clone();
    bad[bad.length - 1] ^= (byte) 0x80;
    assertThatThrownBy(() -> bob.open(alice.publicKey(), bad)).isInstanceOf(BoxException.class);
  }

  @Test
  void wrongPeerKeyIsRejected() {
    assertThatThrownBy(() -> bob.open(mallory.publicKey(), sealed))
        .isInstanceOf(BoxException.class);
    assertThatThrownBy(() -> mallory.open(alice.publicKey(), sealed))
        .isInstanceOf(BoxException.class);
  }

  @Test
  void truncatedOrExtendedInputIsRejected() {
    for (int len = 0; len < sealed.length; len++) {
      byte[] cut = Arrays.copyOf(sealed, len);
      assertThatThrownBy(() -> bob.open(alice.publicKey(), cut))
          .as("length %d", len)
          .isInstanceOf(BoxException.class);
    }
    byte[] longer = Arrays.copyOf(sealed, sealed.length + 1);
    assertThatThrownBy(() -> bob.open(alice.publicKey(), longer)).isInstanceOf(BoxException.class);
  }

  @Test
  void shortInputMessagesSayHowShort() {
    SharedKey key = bob.sharedKey(alice.publicKey());
    assertThatThrownBy(() -> key.openWithNonce(new byte[39]))
        .isInstanceOf(BoxException.class)
        .hasMessage("box is 39 bytes, shorter than its 24-byte nonce and 16-byte tag");
    assertThatThrownBy(() -> key.open(new byte[24], new byte[15]))
        .isInstanceOf(BoxException.class)
        .hasMessage("box is 15 bytes, shorter than its 16-byte tag");
  }

  @Test
  void wrongNonceIsRejected() {
    SharedKey key = bob.sharedKey(alice.publicKey());
    byte[] nonce = Arrays.copyOf(sealed, 24);
    byte[] box = Arrays.copyOfRange(sealed, 24, sealed.length);
    nonce[23] ^= 1;
    assertThatThrownBy(() -> key.open(nonce, box)).isInstanceOf(BoxException.class);
  }

  @Test
  void badNonceLengthIsAProgrammingError() {
    SharedKey key = bob.sharedKey(alice.publicKey());
    assertThatThrownBy(() -> key.seal(new byte[12], message))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("nonce must be 24 bytes, got 12");
    assertThatThrownBy(() -> key.open(new byte[25], new byte[16]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("nonce must be 24 bytes, got 25");
  }

  @Test
  void freshNonceEverySeal() {
    byte[] again = alice.seal(bob.publicKey(), message);
    assertThat(Arrays.copyOf(again, 24)).isNotEqualTo(Arrays.copyOf(sealed, 24));
  }
}
