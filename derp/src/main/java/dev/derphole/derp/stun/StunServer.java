package dev.derphole.derp.stun;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A STUN server on one UDP socket ({@link NioDatagramChannel}): it answers every well-formed
 * binding request with the sender's address and ignores everything else. Usually bound to
 * {@link Stun#DEFAULT_PORT} beside a DERP server.
 *
 * <p><b>A wildcard address binds every local address, one socket each.</b> A socket bound to the
 * wildcard answers from whatever source address the kernel picks for the client, not necessarily
 * the address the client asked (a host with two addresses on one network answers a request to the
 * second from the first), and a client behind a NAT or with a connected socket drops that answer.
 * The JDK cannot read the destination of a datagram or set the source of a reply ({@code
 * IP_PKTINFO}, {@code IPV6_PKTINFO}), so the server binds each address of each interface that is up
 * (loopback and link-local too) to the same port, and each answers from its own address. Addresses
 * that appear after the start are not served (restart to serve them); an address the kernel will
 * not bind yet (an IPv6 address still in duplicate address detection) is skipped with a warning.
 * With no address found, the wildcard itself is bound.
 *
 * <p>The event loop group belongs to the caller and must run NIO channels; {@link #close()}
 * closes only this server's channels.
 */
public final class StunServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(StunServer.class.getName());
    /** Port 0 on every address: the port the first address got may be taken on another; try again. */
    private static final int FREE_PORT_TRIES = 8;

    private final List<Channel> channels;
    private final InetSocketAddress localAddress;
    private final StunServerHandler handler;

    private StunServer(List<Channel> channels, InetSocketAddress localAddress, StunServerHandler handler) {
        this.channels = channels;
        this.localAddress = localAddress;
        this.handler = handler;
    }

    /**
     * Binds a STUN server to {@code bind} (port 0 picks a free port, see {@link #localAddress()});
     * a wildcard address binds each local address (above).
     *
     * @throws InterruptedException if interrupted while binding
     * @throws java.net.BindException (unchecked by the compiler) if the address cannot be bound
     */
    public static StunServer start(InetSocketAddress bind, EventLoopGroup group) throws InterruptedException {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(group, "group");
        StunServerHandler handler = new StunServerHandler();
        List<InetAddress> every = bind.getAddress().isAnyLocalAddress() ? localAddresses() : List.of();
        if (every.isEmpty()) {
            try {
                Channel channel = bind(bind, group, handler);
                return new StunServer(List.of(channel), (InetSocketAddress) channel.localAddress(), handler);
            } catch (BindException e) {
                throw StunServer.<RuntimeException>sneaky(e);
            }
        }
        for (int attempt = 1; ; attempt++) {
            List<Channel> bound = new ArrayList<>();
            int port = bind.getPort();
            try {
                for (InetAddress a : every) {
                    try {
                        Channel c = bind(new InetSocketAddress(a, port), group, handler);
                        bound.add(c);
                        port = ((InetSocketAddress) c.localAddress()).getPort();
                    } catch (BindException e) {
                        if (!String.valueOf(e.getMessage()).contains("assign requested address")) {
                            throw e;
                        }
                        LOG.log(System.Logger.Level.WARNING, "STUN: not serving " + a.getHostAddress() + ": " + e.getMessage());
                    }
                }
                if (bound.isEmpty()) {
                    throw new BindException("no local address could be bound for STUN");
                }
                return new StunServer(bound, new InetSocketAddress(bind.getAddress(), port), handler);
            } catch (InterruptedException | RuntimeException e) {
                bound.forEach(Channel::close);
                throw e;
            } catch (BindException e) {
                bound.forEach(Channel::close);
                if (bind.getPort() != 0 || attempt == FREE_PORT_TRIES) {
                    throw StunServer.<RuntimeException>sneaky(e);
                }
            }
        }
    }

    private static Channel bind(InetSocketAddress at, EventLoopGroup group, StunServerHandler handler)
            throws InterruptedException, BindException {
        ChannelFuture f = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(handler)
                .bind(at).await();
        if (f.isSuccess()) {
            return f.channel();
        }
        if (f.cause() instanceof BindException e) {
            throw e;
        }
        throw StunServer.<RuntimeException>sneaky(f.cause()); // as sync() would: the bind's cause as it is
    }

    /** Every address of every interface that is up; empty if the interfaces cannot be listed. */
    static List<InetAddress> localAddresses() {
        List<InetAddress> out = new ArrayList<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (nif.isUp()) {
                    out.addAll(Collections.list(nif.getInetAddresses()));
                }
            }
        } catch (SocketException e) {
            LOG.log(System.Logger.Level.WARNING, "STUN: cannot list the interfaces (" + e.getMessage() + "); binding the wildcard");
            return List.of();
        }
        return out;
    }

    /** Rethrows {@code e} unchanged, checked or not, as Netty's {@code sync()} does with a bind's cause. */
    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable e) throws E {
        throw (E) e;
    }

    /**
     * The address the server is bound to, with the real port when it was bound to port 0 (the
     * wildcard when it serves every address: all on that port).
     */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** The addresses it answers on: one, or each local address when bound to the wildcard. */
    public List<InetSocketAddress> boundAddresses() {
        return channels.stream().map(c -> (InetSocketAddress) c.localAddress()).toList();
    }

    /** Binding requests answered so far. */
    public long requestsAnswered() {
        return handler.answered();
    }

    /** Datagrams that were not well-formed binding requests, so got no answer. */
    public long requestsIgnored() {
        return handler.ignored();
    }

    /** Closes the sockets and waits for them to close, unless called from a server's own event loop. */
    @Override
    public void close() {
        for (Channel channel : channels) {
            ChannelFuture closed = channel.close();
            if (!channel.eventLoop().inEventLoop()) {
                closed.awaitUninterruptibly();
            }
        }
    }
}
