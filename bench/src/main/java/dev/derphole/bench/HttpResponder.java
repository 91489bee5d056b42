package dev.derphole.bench;

import dev.derphole.derp.io.EventLoops;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The HTTP service behind the share/open benchmark (bench/share.sh): answers every request head
 * with one fixed response, keeps connections open unless the request says {@code Connection:
 * close}. One event-loop thread, so that it costs the same in every run and the forwarder under
 * test is what differs. GET only: a request body would be read as the next request.
 *
 * <pre>
 *   java -cp derphole-bench.jar dev.derphole.bench.HttpResponder [HOST:]PORT [BODY_BYTES]
 * </pre>
 * Prints {@code listening PORT} on stdout once it accepts.
 */
public final class HttpResponder {
  private HttpResponder() {}

  public static void main(String[] args) throws Exception {
    String where = args.length > 0 ? args[0] : "127.0.0.1:0";
    int bodyBytes = args.length > 1 ? Integer.parseInt(args[1]) : 128;
    String host = where.contains(":") ? where.substring(0, where.lastIndexOf(':')) : "127.0.0.1";
    int port = Integer.parseInt(where.substring(where.lastIndexOf(':') + 1));
    byte[] body = new byte[bodyBytes];
    java.util.Arrays.fill(body, (byte) 'x');
    ByteBuf keepAlive = response(body, false);
    ByteBuf close = response(body, true);
    EventLoopGroup group = EventLoops.newGroup(1, "http-responder");
    Channel server = new ServerBootstrap()
        .group(group)
        .channel(EventLoops.serverSocket(group))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.config().setTcpNoDelay(true);
            ch.pipeline().addLast(new Heads(keepAlive, close));
          }
        })
        .bind(new InetSocketAddress(host, port)).sync().channel();
    System.out.println("listening " + ((InetSocketAddress) server.localAddress()).getPort());
    System.out.flush();
    server.closeFuture().sync();
  }

  private static ByteBuf response(byte[] body, boolean close) {
    String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n"
        + (close ? "Connection: close\r\n" : "") + "\r\n";
    ByteBuf b = Unpooled.directBuffer();
    b.writeBytes(head.getBytes(StandardCharsets.US_ASCII)).writeBytes(body);
    return Unpooled.unreleasableBuffer(b.asReadOnly());
  }

  /** Finds request heads (up to the blank line) and answers each; pipelined requests too. */
  private static final class Heads extends ChannelInboundHandlerAdapter {
    private final ByteBuf keepAlive;
    private final ByteBuf close;
    private final StringBuilder head = new StringBuilder();

    Heads(ByteBuf keepAlive, ByteBuf close) {
      this.keepAlive = keepAlive;
      this.close = close;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      try {
        while (in.isReadable()) {
          head.append((char) in.readByte());
          int n = head.length();
          if (n >= 4 && head.charAt(n - 1) == '\n' && head.charAt(n - 2) == '\r'
              && head.charAt(n - 3) == '\n' && head.charAt(n - 4) == '\r') {
            boolean wantsClose = head.toString().toLowerCase(Locale.ROOT).contains("\r\nconnection: close");
            head.setLength(0);
            if (wantsClose) {
              ctx.writeAndFlush(close.duplicate()).addListener(ChannelFutureListener.CLOSE);
              return;
            }
            ctx.write(keepAlive.duplicate());
          }
        }
      } finally {
        in.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
