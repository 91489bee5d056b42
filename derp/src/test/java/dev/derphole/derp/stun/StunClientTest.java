package dev.derphole.derp.stun;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link StunClient} against a hand-driven server socket that misbehaves on purpose. */
class StunClientTest {

    @Test
    void retransmitsAndSkipsAnswersThatDoNotMatch() throws Exception {
        InetSocketAddress seenAs = StunTest.address("203.0.113.9", 40000);
        try (DatagramSocket server = new DatagramSocket(loopback(0));
                DatagramSocket alice = new DatagramSocket(loopback(0))) {
            server.setSoTimeout(5_000);
            CompletableFuture<Void> serverDone = CompletableFuture.runAsync(() -> {
                try {
                    byte[] first = bytes(receive(server)); // dropped: the client must send again
                    DatagramPacket second = receive(server);
                    assertThat(bytes(second)).as("a retransmission repeats the request").isEqualTo(first);
                    byte[] txId = Stun.parseBindingRequest(first, true).orElseThrow().transactionId();
                    InetSocketAddress client = (InetSocketAddress) second.getSocketAddress();
                    send(server, client, "not stun at all".getBytes(StandardCharsets.US_ASCII));
                    send(server, client, Stun.bindingResponse(Stun.newTransactionId(), loopback(1)));
                    send(server, client, Stun.bindingResponse(txId, seenAs));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });

            alice.setSoTimeout(1234);
            assertThat(StunClient.query(alice, (InetSocketAddress) server.getLocalSocketAddress(), Duration.ofSeconds(3)))
                    .contains(seenAs);
            serverDone.get(5, TimeUnit.SECONDS);
            assertThat(alice.getSoTimeout()).as("caller's timeout restored").isEqualTo(1234);
        }
    }

    @Test
    void silentServerGivesEmptyAfterTheTimeoutAndThreeRequests() throws Exception {
        try (DatagramSocket server = new DatagramSocket(loopback(0));
                DatagramSocket alice = new DatagramSocket(loopback(0))) {
            long start = System.nanoTime();

            assertThat(StunClient.query(alice, (InetSocketAddress) server.getLocalSocketAddress(), Duration.ofMillis(300)))
                    .isEmpty();

            assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(300), Duration.ofSeconds(2));
            server.setSoTimeout(100);
            for (int i = 0; i < StunClient.RETRANSMIT_AT_MILLIS.length; i++) {
                assertThat(Stun.parseBindingRequest(bytes(receive(server)), true)).isPresent();
            }
        }
    }

    @Test
    void rejectsBadArguments() throws Exception {
        try (DatagramSocket alice = new DatagramSocket(loopback(0))) {
            assertThatThrownBy(() -> StunClient.query(alice, loopback(3478), Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("timeout");
            assertThatThrownBy(() -> StunClient.query(
                            alice, InetSocketAddress.createUnresolved("stun.example", 3478), Duration.ofSeconds(1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("unresolved");
        }
    }

    static InetSocketAddress loopback(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    private static byte[] bytes(DatagramPacket packet) {
        return Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength());
    }

    private static DatagramPacket receive(DatagramSocket socket) throws IOException {
        DatagramPacket packet = new DatagramPacket(new byte[1500], 1500);
        socket.receive(packet);
        return packet;
    }

    private static void send(DatagramSocket socket, InetSocketAddress to, byte[] bytes) throws IOException {
        socket.send(new DatagramPacket(bytes, bytes.length, to));
    }
}
