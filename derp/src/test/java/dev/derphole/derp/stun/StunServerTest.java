package dev.derphole.derp.stun;

import static dev.derphole.derp.stun.StunClientTest.loopback;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A real {@link StunServer} on 127.0.0.1:0, asked by {@link StunClient} over a real socket. */
class StunServerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private static EventLoopGroup group;

    @BeforeAll
    static void startGroup() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void answersWithTheClientSocketsAddress() throws Exception {
        try (StunServer server = StunServer.start(loopback(0), group);
                DatagramSocket alice = new DatagramSocket(loopback(0))) {

            assertThat(server.localAddress().getPort()).isPositive();
            assertThat(StunClient.query(alice, server.localAddress(), TIMEOUT))
                    .contains((InetSocketAddress) alice.getLocalSocketAddress());
            assertThat(server.requestsAnswered()).isEqualTo(1);
            assertThat(server.requestsIgnored()).isZero();
        }
    }

    @Test
    void ignoresGarbageAndKeepsAnswering() throws Exception {
        try (StunServer server = StunServer.start(loopback(0), group);
                DatagramSocket mallory = new DatagramSocket(loopback(0))) {
            byte[][] garbage = {
                new byte[0],
                "hello".getBytes(StandardCharsets.US_ASCII),
                Stun.bindingResponse(Stun.newTransactionId(), loopback(1)),
                Arrays.copyOf(Stun.bindingRequest(Stun.newTransactionId()), 25),
            };
            for (byte[] packet : garbage) {
                mallory.send(new DatagramPacket(packet, packet.length, server.localAddress()));
            }

            // Datagrams from one socket over loopback are handled in order on one event loop, so
            // once the answer is back the garbage before it has been counted.
            assertThat(StunClient.query(mallory, server.localAddress(), TIMEOUT))
                    .contains((InetSocketAddress) mallory.getLocalSocketAddress());
            assertThat(server.requestsIgnored()).isEqualTo(garbage.length);
            assertThat(server.requestsAnswered()).isEqualTo(1);
        }
    }

    @Test
    void closeLeavesTheSharedGroupRunning() throws Exception {
        StunServer first = StunServer.start(loopback(0), group);
        first.close();
        first.close(); // a second close is harmless

        try (StunServer second = StunServer.start(loopback(0), group);
                DatagramSocket bob = new DatagramSocket(loopback(0))) {
            assertThat(StunClient.query(bob, second.localAddress(), TIMEOUT)).isPresent();
        }
        assertThat(group.isShuttingDown()).isFalse();
    }

    /** On the wildcard: one socket per local address, all on one port, each answering from itself. */
    @Test
    void onTheWildcardEachLocalAddressIsBoundOnOnePort() throws Exception {
        try (StunServer server = StunServer.start(new InetSocketAddress(0), group);
                DatagramSocket alice = new DatagramSocket(loopback(0))) {
            int port = server.localAddress().getPort();
            assertThat(port).isPositive();
            assertThat(server.boundAddresses()).contains(loopback(port))
                    .allSatisfy(a -> assertThat(a.getPort()).isEqualTo(port))
                    .noneMatch(a -> a.getAddress().isAnyLocalAddress());
            alice.connect(loopback(port)); // takes answers from 127.0.0.1:port only
            assertThat(StunClient.query(alice, loopback(port), TIMEOUT))
                    .contains((InetSocketAddress) alice.getLocalSocketAddress());
        }
    }
}
