package dev.derphole.session.offer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The record kept beside a partial body ({@code .NAME.derphole-XXXXXXXX.resume}): what the body is
 * and a SHA-256 per chunk of what has arrived, appended as each chunk completes.
 *
 * <pre>
 *   off len
 *     0   8  magic "DHPART01"
 *     8  32  resume id ({@link ResumeId}, raw)
 *    40   8  body size, u64 BE
 *    48   4  chunk size, u32 BE (= {@link Partial#CHUNK})
 *    52   1  kind: 1 file, 2 directory
 *    53  32… SHA-256 of chunk 0, 1, …; a torn last record (fewer than 32 bytes) is ignored
 * </pre>
 *
 * It sits in a directory others may write to, so it is parsed as hostile: bounded length, every
 * field checked, and nothing it says is trusted beyond which bytes to re-hash.
 */
record PartialMeta(String id, long size, OfferKind kind, List<byte[]> chunks) {
  static final byte[] MAGIC = "DHPART01".getBytes(StandardCharsets.US_ASCII);
  static final int HEADER = 53;
  /** At most this many chunks (1 TiB at 4 MiB): larger bodies are not resumable. */
  static final int MAX_CHUNKS = 1 << 18;
  static final long MAX_LENGTH = HEADER + (long) MAX_CHUNKS * Sha256.LENGTH;

  static long chunkCount(long size) {
    return (size + Partial.CHUNK - 1) / Partial.CHUNK;
  }

  static boolean resumable(long size) {
    return size > 0 && chunkCount(size) <= MAX_CHUNKS;
  }

  byte[] encodeHeader() {
    return ByteBuffer.allocate(HEADER).put(MAGIC).put(HexFormat.of().parseHex(id)).putLong(size)
        .putInt(Partial.CHUNK).put((byte) (kind == OfferKind.DIRECTORY ? 2 : 1)).array();
  }

  /** Parses a meta file's bytes; null if it is not one (wrong magic, bad field, too long). */
  static PartialMeta decode(byte[] b) {
    if (b.length < HEADER || b.length > MAX_LENGTH || !Arrays.equals(b, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      return null;
    }
    ByteBuffer buf = ByteBuffer.wrap(b);
    buf.position(MAGIC.length);
    byte[] id = new byte[32];
    buf.get(id);
    long size = buf.getLong();
    int chunk = buf.getInt();
    int kind = buf.get();
    if (!resumable(size) || chunk != Partial.CHUNK || (kind != 1 && kind != 2)) {
      return null;
    }
    long records = (b.length - HEADER) / Sha256.LENGTH;
    if (records > chunkCount(size)) {
      return null;
    }
    List<byte[]> chunks = new ArrayList<>((int) records);
    for (int i = 0; i < records; i++) {
      byte[] h = new byte[Sha256.LENGTH];
      buf.get(h);
      chunks.add(h);
    }
    return new PartialMeta(HexFormat.of().formatHex(id), size, kind == 2 ? OfferKind.DIRECTORY : OfferKind.FILE, chunks);
  }
}
