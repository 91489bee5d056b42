package dev.derphole.session.offer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Hand-made tar streams that a hostile sender could send. */
final class MaliciousTars {
  private MaliciousTars() {}

  /** One regular file named exactly {@code name} (absolute names kept as they are). */
  static byte[] file(String name, String content) throws IOException {
    return build(t -> add(t, new TarArchiveEntry(name, true), content));
  }

  /** A symlink {@code link} → {@code target}, then a file written "through" it. */
  static byte[] symlinkThenFile(String link, String target, String through) throws IOException {
    return build(t -> {
      TarArchiveEntry l = new TarArchiveEntry(link, TarConstants.LF_SYMLINK);
      l.setLinkName(target);
      add(t, l, null);
      add(t, new TarArchiveEntry(through), "owned");
    });
  }

  /** A hard link entry. */
  static byte[] hardLink(String name, String target) throws IOException {
    return build(t -> {
      TarArchiveEntry l = new TarArchiveEntry(name, TarConstants.LF_LINK);
      l.setLinkName(target);
      add(t, l, null);
    });
  }

  /** The same file twice: the second must not replace the first silently. */
  static byte[] duplicate(String name) throws IOException {
    return build(t -> {
      add(t, new TarArchiveEntry(name), "first");
      add(t, new TarArchiveEntry(name), "second");
    });
  }

  interface Body {
    void write(TarArchiveOutputStream t) throws IOException;
  }

  static byte[] build(Body body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TarArchiveOutputStream t = new TarArchiveOutputStream(out, 512, StandardCharsets.UTF_8.name());
    t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    body.write(t);
    t.finish();
    t.flush();
    return out.toByteArray();
  }

  static void add(TarArchiveOutputStream t, TarArchiveEntry e, String content) throws IOException {
    byte[] data = content == null ? new byte[0] : content.getBytes(StandardCharsets.UTF_8);
    e.setSize(data.length);
    t.putArchiveEntry(e);
    t.write(data);
    t.closeArchiveEntry();
  }
}
