package dev.derphole.derp.stun;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A STUN server on one UDP socket ({@link NioDatagramChannel}): it answers every well-formed
 * binding request with the sender's address and ignores everything else. Usually bound to
 * {@link Stun#DEFAULT_PORT} beside a DERP server.
 *
 * <p>The event loop group belongs to the caller and must run NIO channels; {@link #close()}
 * closes only this server's channel.
 */
public final class StunServer implements AutoCloseable {

    private final Channel channel;
    private final StunServerHandler handler;

    private StunServer(Channel channel, StunServerHandler handler) {
        this.channel = channel;
        this.handler = handler;
    }

    /**
     * Binds a STUN server to {@code bind} (port 0 picks a free port, see {@link #localAddress()}).
     *
     * @throws InterruptedException if interrupted while binding
     * @throws java.net.BindException (unchecked by the compiler) if the address cannot be bound
     */
    public static StunServer start(InetSocketAddress bind, EventLoopGroup group) throws InterruptedException {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(group, "group");
        StunServerHandler handler = new StunServerHandler();
        Channel channel = new Bootstrap()
                .group(group)
                .channel(NioDatagramChannel.class)
                .handler(handler)
                .bind(bind)
                .sync()
                .channel();
        return new StunServer(channel, handler);
    }

    /** The address the server is bound to, with the real port when it was bound to port 0. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Binding requests answered so far. */
    public long requestsAnswered() {
        return handler.answered();
    }

    /** Datagrams that were not well-formed binding requests, so got no answer. */
    public long requestsIgnored() {
        return handler.ignored();
    }

    /** Closes the socket and waits for it to close, unless called from the server's own event loop. */
    @Override
    public void close() {
        ChannelFuture closed = channel.close();
        if (!channel.eventLoop().inEventLoop()) {
            closed.awaitUninterruptibly();
        }
    }
}
