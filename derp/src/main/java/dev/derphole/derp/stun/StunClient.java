package dev.derphole.derp.stun;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A blocking STUN client: asks one server which address it sees for a caller's UDP socket.
 *
 * <p>It sends Tailscale's binding request (so derper answers), retransmits the same request at
 * {@link #RETRANSMIT_AT_MILLIS} after the start, and returns the address from the first binding
 * response whose transaction ID matches.
 */
public final class StunClient {

    /** When the request is sent, in milliseconds after the start: UDP may lose any of them. */
    static final long[] RETRANSMIT_AT_MILLIS = {0, 100, 200};

    /** Large enough for any STUN response a public server sends; a longer one is cut and ignored. */
    private static final int RECEIVE_BUFFER_BYTES = 2048;

    private StunClient() {}

    /**
     * Queries {@code server} from {@code socket} and waits up to {@code timeout} for the answer.
     *
     * <p>The socket is the caller's and stays open. While this runs it consumes every datagram
     * that arrives on the socket: those that are not the matching response are dropped. The
     * socket's read timeout is restored before returning.
     *
     * @return the address the server saw, or empty if no matching response came in time
     * @throws IOException if sending or receiving fails
     */
    public static Optional<InetSocketAddress> query(DatagramSocket socket, InetSocketAddress server, Duration timeout)
            throws IOException {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(timeout, "timeout");
        if (server.isUnresolved()) {
            throw new IllegalArgumentException("STUN server address is unresolved: " + server);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        byte[] txId = Stun.newTransactionId();
        byte[] request = Stun.bindingRequest(txId);
        DatagramPacket outbound = new DatagramPacket(request, request.length, server);
        byte[] buffer = new byte[RECEIVE_BUFFER_BYTES];
        DatagramPacket inbound = new DatagramPacket(buffer, buffer.length);

        int originalTimeout = socket.getSoTimeout();
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        int sent = 0;
        try {
            while (true) {
                long now = System.nanoTime();
                if (now - deadline >= 0) {
                    return Optional.empty();
                }
                if (sent < RETRANSMIT_AT_MILLIS.length && now - sendTime(start, sent) >= 0) {
                    socket.send(outbound);
                    sent++;
                }
                long wakeAt = sent < RETRANSMIT_AT_MILLIS.length ? sendTime(start, sent) : deadline;
                if (wakeAt - deadline > 0) {
                    wakeAt = deadline;
                }
                long waitMillis = TimeUnit.NANOSECONDS.toMillis(wakeAt - now);
                socket.setSoTimeout((int) Math.max(1, waitMillis)); // 0 would mean forever
                inbound.setLength(buffer.length);
                try {
                    socket.receive(inbound);
                } catch (SocketTimeoutException e) {
                    continue; // time to retransmit, or the deadline; the loop decides
                }
                Optional<Stun.BindingResponse> response =
                        Stun.parseBindingResponse(Arrays.copyOf(buffer, inbound.getLength()));
                if (response.isPresent() && Arrays.equals(response.get().transactionId(), txId)) {
                    return Optional.of(response.get().mappedAddress());
                }
            }
        } finally {
            socket.setSoTimeout(originalTimeout);
        }
    }

    private static long sendTime(long start, int attempt) {
        return start + TimeUnit.MILLISECONDS.toNanos(RETRANSMIT_AT_MILLIS[attempt]);
    }
}
