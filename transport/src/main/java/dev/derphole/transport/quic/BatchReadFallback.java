package dev.derphole.transport.quic;

import io.netty.channel.ChannelException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.EpollChannelOption;
import java.util.function.Consumer;

/**
 * The first handler of an epoll UDP socket that reads with recvmmsg: when a batched read fails in
 * the native code itself (qemu-user does not emulate a socket option Netty's recvmmsg asks for,
 * and fails every read with "getsockopt() failed: Protocol not available"), the socket goes on
 * reading one datagram per call, as kqueue and NIO do. The datagrams of the failed read are lost;
 * QUIC and disco send again. The handler then leaves the pipeline: a later failure goes on to
 * the path as before.
 */
final class BatchReadFallback extends ChannelInboundHandlerAdapter {
  static final String NAME = "batch-read-fallback";

  private final int datagramRead;
  private final Consumer<String> note;

  BatchReadFallback(int datagramRead, Consumer<String> note) {
    this.datagramRead = datagramRead;
    this.note = note;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof ChannelException) || !batched(ctx)) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    ctx.channel().config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 0);
    ctx.channel().config().setOption(io.netty.channel.ChannelOption.RCVBUF_ALLOCATOR,
        new FixedRecvByteBufAllocator(datagramRead));
    note.accept("batched UDP reads failed (" + cause.getMessage() + "); reading one datagram per call");
    ctx.pipeline().remove(this);
  }

  private static boolean batched(ChannelHandlerContext ctx) {
    Integer size = ctx.channel().config().getOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE);
    return size != null && size > 0;
  }
}
