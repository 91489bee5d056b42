package dev.derphole.derp.server;

import dev.derphole.derp.frame.DerpProtocol;
import dev.derphole.derp.frame.Frame;
import dev.derphole.derp.frame.FrameDecoder;
import dev.derphole.derp.frame.FrameEncoder;
import dev.derphole.derp.http.HttpHead;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Answers the one HTTP request a connection makes. {@code GET /derp} with {@code Upgrade: DERP}
 * turns the connection into a DERP connection; the small endpoints below answer and close.
 *
 * <pre>
 *  /derp                       101 Switching Protocols (no 101 with Derp-Fast-Start: 1), then ServerKey
 *  /derp/probe, /derp/latency-check   GET/HEAD 200 empty, Access-Control-Allow-Origin: *
 *  /generate_204               204, echoes a valid X-Tailscale-Challenge
 *  /metrics                    Prometheus text
 *  /                           a line saying what this is
 * </pre>
 */
final class HttpFront extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger(HttpFront.class.getName());
  private static final Pattern CHALLENGE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
  static final String HEAD_DECODER = "http-head";

  private final DerpServer server;

  HttpFront(DerpServer server) {
    this.server = server;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HttpHead head)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    List<String> req = head.requestParts();
    if (req.isEmpty()) {
      server.metrics.handshakeFailures.increment();
      respond(ctx, 400, "Bad Request", "", "not an HTTP/1.x request\n", false);
      return;
    }
    String method = req.get(0);
    String path = req.get(1);
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    if (req.get(2).equals("HTTP/1.1") && head.header("Host") == null) {
      respond(ctx, 400, "Bad Request", "", "missing Host header\n", false);
      return;
    }
    boolean headOnly = method.equals("HEAD");
    switch (path) {
      case "/derp" -> upgrade(ctx, head, method);
      case "/derp/probe", "/derp/latency-check" -> {
        if (method.equals("GET") || headOnly) {
          respond(ctx, 200, "OK", "Access-Control-Allow-Origin: *\r\n", "", headOnly);
        } else {
          respond(ctx, 405, "Method Not Allowed", "", "bogus probe method\n", false);
        }
      }
      case "/generate_204" -> {
        String extra = "Cache-Control: no-cache, no-store, must-revalidate, no-transform, max-age=0\r\n";
        String challenge = head.header("X-Tailscale-Challenge");
        if (challenge != null && CHALLENGE.matcher(challenge).matches()) {
          extra += "X-Tailscale-Response: response " + challenge + "\r\n";
        }
        respond(ctx, 204, "No Content", extra, "", true);
      }
      case "/metrics" -> respond(ctx, 200, "OK", "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n",
          server.metrics.prometheus(), headOnly);
      case "/" -> respond(ctx, 200, "OK", "Content-Type: text/plain; charset=utf-8\r\n",
          "This is a DERP relay (derphole). It speaks Tailscale's DERP protocol at /derp.\n", headOnly);
      default -> respond(ctx, 404, "Not Found", "", "not found\n", headOnly);
    }
  }

  private void upgrade(ChannelHandlerContext ctx, HttpHead head, String method) {
    String upgrade = head.header("Upgrade");
    if (!method.equals("GET") || upgrade == null || !upgrade.trim().equalsIgnoreCase("derp")) {
      server.metrics.handshakeFailures.increment();
      respond(ctx, 426, "Upgrade Required", "", "DERP requires connection upgrade\n", false);
      return;
    }
    boolean fastStart = "1".equals(trim(head.header("Derp-Fast-Start")));
    if (!fastStart) {
      String response = "HTTP/1.1 101 Switching Protocols\r\n"
          + "Upgrade: DERP\r\n"
          + "Connection: Upgrade\r\n"
          + "Derp-Version: " + DerpProtocol.PROTOCOL_VERSION + "\r\n"
          + "Derp-Public-Key: " + server.publicKey().untypedHex() + "\r\n\r\n";
      ctx.write(Unpooled.copiedBuffer(response, StandardCharsets.US_ASCII));
    }
    FrameDecoder decoder = FrameDecoder.forRelay(DerpProtocol.MAX_CLIENT_INFO_LENGTH);
    ctx.pipeline().addAfter(ctx.name(), "derp-frame-decoder", decoder);
    ctx.pipeline().addAfter("derp-frame-decoder", "derp-frame-encoder", FrameEncoder.INSTANCE);
    ctx.pipeline().addAfter("derp-frame-encoder", "derp-client", new ClientConnection(server, decoder));
    // From the channel, not ctx: the frame encoder sits behind this handler.
    ctx.channel().writeAndFlush(new Frame.ServerKey(server.publicKey()));
    ctx.pipeline().remove(this);
    // Removing the head decoder hands any pipelined bytes (a fast-start ClientInfo) to the frame decoder.
    ctx.pipeline().remove(HEAD_DECODER);
  }

  private void respond(ChannelHandlerContext ctx, int code, String reason, String extraHeaders, String body, boolean headOnly) {
    server.metrics.httpRequests.increment();
    byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder()
        .append("HTTP/1.1 ").append(code).append(' ').append(reason).append("\r\n")
        .append(extraHeaders)
        .append("Connection: close\r\n");
    if (code != 204) {
      if (!body.isEmpty() && !extraHeaders.contains("Content-Type")) {
        sb.append("Content-Type: text/plain; charset=utf-8\r\n");
      }
      sb.append("Content-Length: ").append(bodyBytes.length).append("\r\n");
    }
    sb.append("\r\n");
    ByteBuf out = Unpooled.copiedBuffer(sb, StandardCharsets.US_ASCII);
    if (!headOnly && code != 204) {
      out = Unpooled.wrappedBuffer(out, Unpooled.wrappedBuffer(bodyBytes));
    }
    server.verified(ctx.channel()); // answered: the handshake deadline no longer applies
    ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    server.metrics.handshakeFailures.increment();
    LOG.log(Level.INFO, "closing connection from {0} before the upgrade: {1}", ctx.channel().remoteAddress(),
        DerpServer.describe(cause));
    ctx.close();
  }

  private static String trim(String s) {
    return s == null ? null : s.trim();
  }
}
