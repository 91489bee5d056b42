package dev.derphole.derp.stun;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * Answers each STUN binding request datagram with a binding success response that holds the
 * sender's address as XOR-MAPPED-ADDRESS. Any well-formed binding request is answered (no
 * "tailnode" check, unlike derper); every other datagram is counted as ignored. Inbound
 * datagrams are released after the read ({@link SimpleChannelInboundHandler}).
 */
@io.netty.channel.ChannelHandler.Sharable // one per server, on each of its sockets; counters are LongAdders
final class StunServerHandler extends SimpleChannelInboundHandler<DatagramPacket> {

    private static final System.Logger LOG = System.getLogger(StunServerHandler.class.getName());

    private final LongAdder answered = new LongAdder();
    private final LongAdder ignored = new LongAdder();

    StunServerHandler() {
        super(DatagramPacket.class);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket datagram) {
        ByteBuf content = datagram.content();
        InetSocketAddress sender = datagram.sender();
        Optional<Stun.BindingRequest> request = sender != null && Stun.looksLikeStun(content)
                ? Stun.parseBindingRequest(ByteBufUtil.getBytes(content), false)
                : Optional.empty();
        if (request.isEmpty()) {
            ignored.increment();
            return;
        }
        byte[] response = Stun.bindingResponse(request.get().transactionId(), sender);
        answered.increment();
        ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(response), sender))
                .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    /** A failed send to one client must not stop the server: log it and keep the channel open. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.WARNING, "STUN server on " + ctx.channel().localAddress() + ": " + cause, cause);
    }

    long answered() {
        return answered.sum();
    }

    long ignored() {
        return ignored.sum();
    }
}
