package dev.derphole.cli.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** Test inputs and their digests. */
final class Bytes {
  private Bytes() {}

  /** Writes {@code size} bytes from {@code new Random(seed)} to {@code file}, in chunks. */
  static Path randomFile(Path file, long size, long seed) throws IOException {
    Random random = new Random(seed);
    byte[] chunk = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long left = size; left > 0; ) {
        random.nextBytes(chunk);
        int n = (int) Math.min(chunk.length, left);
        out.write(chunk, 0, n);
        left -= n;
      }
    }
    return file;
  }

  /** {@code pattern} repeated until the file is {@code size} bytes (the last copy may be cut). */
  static Path repeatedFile(Path file, byte[] pattern, long size) throws IOException {
    try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      for (long written = 0; written < size; ) {
        int n = (int) Math.min(pattern.length, size - written);
        out.write(pattern, 0, n);
        written += n;
      }
    }
    return file;
  }

  static String sha256(Path file) throws IOException {
    MessageDigest sha = sha();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  static String sha256(byte[] data) {
    return HexFormat.of().formatHex(sha().digest(data));
  }

  private static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** Whether {@code needle} occurs anywhere in {@code haystack}. */
  static boolean contains(byte[] haystack, byte[] needle) {
    return indexOf(haystack, needle) >= 0;
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /**
   * Writes random bytes into a process's stdin for as long as it reads them: an input that never
   * ends. The writer stops when the process goes away (the write fails) or on {@link #stop()}.
   */
  static final class EndlessInput {
    final AtomicLong written = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();

    EndlessInput(Processes processes, String name, OutputStream stdin) {
      processes.thread(name, () -> {
        Random random = new Random(42);
        byte[] chunk = new byte[64 << 10];
        try (stdin) {
          while (!stop.get()) {
            random.nextBytes(chunk);
            stdin.write(chunk);
            stdin.flush();
            written.addAndGet(chunk.length);
          }
        } catch (IOException expected) {
          // the process is gone: the input ends with it
        }
      });
    }

    void stop() {
      stop.set(true);
    }
  }
}
