package dev.derphole.derp.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads exactly one HTTP head (start line and headers, up to the blank line) and emits it as an
 * {@link HttpHead}. It decodes nothing after that: the next handler removes this decoder, and the
 * bytes that arrived behind the head (a pipelined DERP frame) flow on to whatever replaced it.
 */
public final class HttpHeadDecoder extends ByteToMessageDecoder {
  /** Generous for an upgrade request; a larger head is hostile or broken. */
  public static final int MAX_HEAD_LENGTH = 8 << 10;

  private static final ByteProcessor FIND_LF = ByteProcessor.FIND_LF;

  /** Longest method this decoder waits for before the space that ends it. */
  private static final int MAX_METHOD_LENGTH = 16;

  private final boolean requests;
  private boolean done;

  /** A decoder for a response head (a client reading the server's answer). */
  public HttpHeadDecoder() {
    this(false);
  }

  private HttpHeadDecoder(boolean requests) {
    this.requests = requests;
  }

  /**
   * A decoder for a request head that gives up on bytes that cannot begin an HTTP request (a TLS
   * hello on a plain port, binary noise, a first line that is no request line) as soon as they
   * arrive: it emits a head whose {@link HttpHead#requestParts} are empty, which the server answers
   * with 400, instead of waiting for a blank line that never comes.
   */
  public static HttpHeadDecoder forRequests() {
    return new HttpHeadDecoder(true);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (done) {
      return;
    }
    if (requests && cannotBeRequest(in)) {
      in.skipBytes(in.readableBytes());
      done = true;
      out.add(new HttpHead("", Map.of()));
      return;
    }
    int end = findEndOfHead(in);
    if (end < 0) {
      if (in.readableBytes() > MAX_HEAD_LENGTH) {
        throw tooLong(in);
      }
      return;
    }
    if (end - in.readerIndex() > MAX_HEAD_LENGTH) {
      throw tooLong(in);
    }
    String text = in.toString(in.readerIndex(), end - in.readerIndex(), StandardCharsets.ISO_8859_1);
    in.readerIndex(end);
    done = true;
    out.add(parse(text));
  }

  /**
   * Drops what was read and decodes nothing more, so the refusal is raised once: left in the
   * buffer, the same bytes would fail again when the channel closes.
   */
  private DecoderException tooLong(ByteBuf in) {
    in.skipBytes(in.readableBytes());
    done = true;
    return new DecoderException("HTTP head longer than " + MAX_HEAD_LENGTH + " bytes");
  }

  /**
   * Whether what has arrived so far rules out a request line: the method (up to the first space)
   * must be 1..16 token characters, and a complete first line must be method, target and an
   * HTTP/1.x version.
   */
  private static boolean cannotBeRequest(ByteBuf in) {
    int from = in.readerIndex();
    int limit = in.writerIndex();
    for (int i = from; i < limit; i++) {
      byte b = in.getByte(i);
      if (b == ' ') {
        if (i == from) {
          return true;
        }
        break;
      }
      if (!isTokenChar(b) || i - from >= MAX_METHOD_LENGTH) {
        return true;
      }
    }
    int lf = in.forEachByte(from, limit - from, FIND_LF);
    if (lf < 0) {
      return false;
    }
    int lineEnd = lf > from && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
    String line = in.toString(from, lineEnd - from, StandardCharsets.ISO_8859_1);
    return new HttpHead(line, Map.of()).requestParts().isEmpty();
  }

  /** RFC 9110 tchar. */
  private static boolean isTokenChar(byte b) {
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || "!#$%&'*+-.^_`|~".indexOf(b) >= 0;
  }

  /** Index just past the blank line ending the head, or -1. Accepts CRLF and bare LF line ends. */
  private static int findEndOfHead(ByteBuf in) {
    int from = in.readerIndex();
    int limit = in.writerIndex();
    while (from < limit) {
      int lf = in.forEachByte(from, limit - from, FIND_LF);
      if (lf < 0) {
        return -1;
      }
      int next = lf + 1;
      if (next < limit && in.getByte(next) == '\n') {
        return next + 1;
      }
      if (next + 1 < limit && in.getByte(next) == '\r' && in.getByte(next + 1) == '\n') {
        return next + 2;
      }
      from = next;
    }
    return -1;
  }

  static HttpHead parse(String text) {
    String[] lines = text.split("\r?\n");
    if (lines.length == 0 || lines[0].isEmpty()) {
      throw new DecoderException("empty HTTP start line");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new DecoderException("malformed HTTP header line");
      }
      String name = line.substring(0, colon).trim();
      for (int c = 0; c < name.length(); c++) {
        char ch = name.charAt(c);
        if (ch <= ' ' || ch >= 127) {
          throw new DecoderException("malformed HTTP header name");
        }
      }
      headers.put(name, line.substring(colon + 1).trim());
    }
    return new HttpHead(lines[0], headers);
  }
}
