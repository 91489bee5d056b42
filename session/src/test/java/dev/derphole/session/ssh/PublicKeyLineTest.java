package dev.derphole.session.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class PublicKeyLineTest {
  /** The base64 blob of a key of {@code type}: string type ‖ string 32 bytes of key. */
  static String blob(String type) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(b);
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    d.writeInt(t.length);
    d.write(t);
    d.writeInt(32);
    d.write(new byte[32]);
    return Base64.getEncoder().encodeToString(b.toByteArray());
  }

  // A real key line from ssh-keygen -t ed25519 -C alice@laptop.
  static final String REAL = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHrL6s4WdeBI3lnoqF9P9Eg9EehTc7vO0tUc2xEihZAP alice@laptop";

  @Test
  void aRealKeyLineParses() throws Exception {
    PublicKeyLine k = PublicKeyLine.parse(REAL + "\n");
    assertThat(k.type()).isEqualTo("ssh-ed25519");
    assertThat(k.keyId()).isEqualTo("alice@laptop");
    assertThat(k.line()).isEqualTo(REAL);
    // ssh-keygen -lf printed this fingerprint for the same key.
    assertThat(k.fingerprint()).isEqualTo("SHA256:/smnrnELyv2KlCOR+wuMgQhA9anwcB4TekSymZRSkg0");
  }

  @Test
  void aKeyWithoutCommentIsUnknown() throws Exception {
    PublicKeyLine k = PublicKeyLine.parse("ssh-rsa " + blob("ssh-rsa"));
    assertThat(k.keyId()).isEqualTo("unknown");
    assertThat(k.line()).isEqualTo("ssh-rsa " + blob("ssh-rsa"));
  }

  @Test
  void badLinesAreRefusedWithTheReason() throws Exception {
    assertThatThrownBy(() -> PublicKeyLine.parse("")).hasMessage("not an OpenSSH public key line: it is empty");
    assertThatThrownBy(() -> PublicKeyLine.parse(REAL + "\n" + REAL)).hasMessageContaining("more than one line");
    assertThatThrownBy(() -> PublicKeyLine.parse("command=\"sh\" " + REAL))
        .hasMessageContaining("options in front of the key are not accepted");
    assertThatThrownBy(() -> PublicKeyLine.parse("ssh-ed25519")).hasMessageContaining("key data is missing");
    assertThatThrownBy(() -> PublicKeyLine.parse("ssh-ed25519 !!!")).hasMessageContaining("not base64");
    assertThatThrownBy(() -> PublicKeyLine.parse("ssh-ed25519 " + blob("ssh-rsa")))
        .hasMessageContaining("not a ssh-ed25519 key");
    assertThatThrownBy(() -> PublicKeyLine.parse(REAL + "\u001b[2J")).hasMessageContaining("control characters");
    assertThatThrownBy(() -> PublicKeyLine.parse(REAL + " me\u009b2J")).hasMessageContaining("control characters");
    assertThatThrownBy(() -> PublicKeyLine.parse("-----BEGIN OPENSSH PRIVATE KEY-----"))
        .hasMessageContaining("known key type");
  }
}
