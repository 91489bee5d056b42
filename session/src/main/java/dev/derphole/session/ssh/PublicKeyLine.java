package dev.derphole.session.ssh;

import dev.derphole.session.SessionException;
import dev.derphole.session.text.PeerText;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;

/**
 * One OpenSSH public key line, {@code TYPE BASE64 [COMMENT]}, checked before it may go into an
 * {@code authorized_keys} file: a single line, a known key type, no options in front (an inviter
 * never grants {@code command=} or {@code permitopen=} by accident), a blob that decodes and names
 * the same type, and a printable comment.
 */
public record PublicKeyLine(String type, String blob, String comment) {
  static final Set<String> TYPES = Set.of("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
      "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com");
  static final int MAX_LENGTH = 16 << 10;

  public static PublicKeyLine parse(String text) throws SessionException {
    String line = text.strip();
    if (line.isEmpty()) {
      throw bad("it is empty");
    }
    if (line.length() > MAX_LENGTH) {
      throw bad("it is longer than " + MAX_LENGTH + " characters");
    }
    if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
      throw bad("it is more than one line");
    }
    if (line.codePoints().anyMatch(c -> c != '\t' && PeerText.isControl(c))) {
      throw bad("it contains control characters");
    }
    String[] parts = line.split("[ \t]+", 3);
    if (!TYPES.contains(parts[0])) {
      throw bad("it does not start with a known key type (" + String.join(", ", TYPES.stream().sorted().toList())
          + "); options in front of the key are not accepted");
    }
    if (parts.length < 2) {
      throw bad("the key data is missing");
    }
    byte[] blob;
    try {
      blob = Base64.getDecoder().decode(parts[1]);
    } catch (IllegalArgumentException e) {
      throw bad("the key data is not base64");
    }
    ByteBuffer b = ByteBuffer.wrap(blob);
    if (b.remaining() < 4) {
      throw bad("the key data is too short");
    }
    int n = b.getInt();
    if (n < 0 || n > b.remaining()) {
      throw bad("the key data is malformed");
    }
    byte[] inner = new byte[n];
    b.get(inner);
    if (!new String(inner, StandardCharsets.US_ASCII).equals(parts[0]) || !b.hasRemaining()) {
      throw bad("the key data is not a " + parts[0] + " key");
    }
    return new PublicKeyLine(parts[0], parts[1], parts.length == 3 ? parts[2] : "");
  }

  /** The line as written to {@code authorized_keys}. */
  public String line() {
    return comment.isEmpty() ? type + " " + blob : type + " " + blob + " " + comment;
  }

  /** What to call the key for a person: its comment, or "unknown". */
  public String keyId() {
    return comment.isEmpty() ? "unknown" : comment;
  }

  /** OpenSSH's fingerprint: {@code SHA256:} and the unpadded base64 of the blob's SHA-256. */
  public String fingerprint() {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(Base64.getDecoder().decode(blob));
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(d);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Same key material (type and blob), whatever the comment. */
  public boolean sameKey(PublicKeyLine other) {
    return type.equals(other.type) && blob.equals(other.blob);
  }

  private static SessionException bad(String why) {
    return new SessionException("not an OpenSSH public key line: " + why);
  }
}
