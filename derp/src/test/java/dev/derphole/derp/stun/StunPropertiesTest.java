package dev.derphole.derp.stun;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Round trips, and garbage that must parse as empty rather than throw. */
class StunPropertiesTest {

    @Property
    void responseRoundTrips(
            @ForAll @Size(12) byte[] txId,
            @ForAll("ipAddresses") InetAddress ip,
            @ForAll @IntRange(min = 0, max = 65535) int port) {
        InetSocketAddress mapped = new InetSocketAddress(ip, port);

        byte[] response = Stun.bindingResponse(txId, mapped);

        assertThat(response).hasSize(Stun.HEADER_LENGTH + (ip.getAddress().length == 4 ? 12 : 24));
        assertThat(Stun.parseBindingResponse(response)).contains(new Stun.BindingResponse(txId, mapped));
    }

    @Property
    void requestRoundTripsUnderStrictRules(@ForAll @Size(12) byte[] txId) {
        byte[] request = Stun.bindingRequest(txId);

        assertThat(Stun.isBindingRequest(request)).isTrue();
        assertThat(Stun.parseBindingRequest(request, true)).contains(new Stun.BindingRequest(txId));
    }

    @Property(tries = 2000)
    void arbitraryBytesNeverThrow(@ForAll @Size(max = 128) byte[] packet) {
        parseEveryWay(packet);
    }

    /** Random bytes seldom carry the cookie; these do, so the attribute walk is reached. */
    @Property(tries = 2000)
    void stunShapedGarbageNeverThrows(@ForAll("stunShaped") byte[] packet) {
        parseEveryWay(packet);
    }

    /** Valid messages with one byte changed and cut short at a random place. */
    @Property(tries = 2000)
    void mutatedMessagesNeverThrow(
            @ForAll @Size(12) byte[] txId,
            @ForAll("ipAddresses") InetAddress ip,
            @ForAll boolean request,
            @ForAll @IntRange(min = 0, max = 63) int flipAt,
            @ForAll byte flipWith,
            @ForAll @IntRange(min = 0, max = 64) int cutTo) {
        byte[] packet = request
                ? Stun.bindingRequest(txId)
                : Stun.bindingResponse(txId, new InetSocketAddress(ip, 3478));
        packet[flipAt % packet.length] ^= flipWith;

        parseEveryWay(packet);
        parseEveryWay(Arrays.copyOf(packet, Math.min(cutTo, packet.length)));
    }

    private static void parseEveryWay(byte[] packet) {
        Stun.parseBindingResponse(packet);
        Stun.parseBindingRequest(packet, true);
        Stun.parseBindingRequest(packet, false);
        Stun.isBindingRequest(packet);
        ByteBuf buf = Unpooled.wrappedBuffer(packet);
        try {
            Stun.looksLikeStun(buf);
        } finally {
            buf.release();
        }
    }

    @Provide
    Arbitrary<InetAddress> ipAddresses() {
        return Arbitraries.oneOf(
                        Arbitraries.bytes().array(byte[].class).ofSize(4),
                        Arbitraries.bytes().array(byte[].class).ofSize(16))
                .map(StunPropertiesTest::inetAddress);
    }

    /** A header with the cookie and a binding request or response type, then random attribute bytes. */
    @Provide
    Arbitrary<byte[]> stunShaped() {
        Arbitrary<Integer> type = Arbitraries.of(Stun.TYPE_BINDING_REQUEST, Stun.TYPE_BINDING_SUCCESS);
        Arbitrary<byte[]> body = Arbitraries.bytes().array(byte[].class).ofMaxSize(96);
        Arbitrary<Boolean> honestLength = Arbitraries.of(true, false);
        Arbitrary<Integer> length = Arbitraries.integers().between(0, 0xffff);
        return Combinators.combine(type, body, honestLength, length).as((t, b, honest, len) -> {
            byte[] packet = new byte[Stun.HEADER_LENGTH + b.length];
            Stun.putU16(packet, 0, t);
            Stun.putU16(packet, 2, honest ? b.length : len);
            Stun.putU32(packet, 4, Stun.MAGIC_COOKIE);
            System.arraycopy(b, 0, packet, Stun.HEADER_LENGTH, b.length);
            return packet;
        });
    }

    /** Note: a v4-mapped 16-byte address comes back as IPv4, which the codec also does. */
    private static InetAddress inetAddress(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
