package dev.derphole.derp.stun;

import static dev.derphole.derp.stun.StunTest.address;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The server's one handler, without sockets. */
class StunServerHandlerTest {

    private static final InetSocketAddress SERVER = address("192.0.2.1", 3478);
    private static final InetSocketAddress ALICE = address("198.51.100.7", 41641);
    private static final InetSocketAddress BOB = address("2001:db8::b0b", 12345);

    private final StunServerHandler handler = new StunServerHandler();
    private final EmbeddedChannel channel = new EmbeddedChannel(handler);

    @AfterEach
    void closeChannel() {
        assertThat(channel.finishAndReleaseAll()).as("nothing left unread").isFalse();
    }

    @Test
    void answersTailscaleRequestWithTheSendersAddress() {
        byte[] txId = Stun.newTransactionId();
        ByteBuf request = Unpooled.wrappedBuffer(Stun.bindingRequest(txId));

        channel.writeInbound(new DatagramPacket(request, SERVER, ALICE));

        DatagramPacket reply = channel.readOutbound();
        try {
            assertThat(reply.recipient()).isEqualTo(ALICE);
            assertThat(ByteBufUtil.getBytes(reply.content())).isEqualTo(Stun.bindingResponse(txId, ALICE));
        } finally {
            reply.release();
        }
        assertThat(request.refCnt()).as("request released").isZero();
        assertThat(handler.answered()).isEqualTo(1);
        assertThat(handler.ignored()).isZero();
    }

    @Test
    void answersAPlainRfcRequestOverIpv6() {
        byte[] txId = Stun.newTransactionId();
        byte[] plain = new byte[Stun.HEADER_LENGTH]; // binding request with no attributes
        Stun.putU16(plain, 0, Stun.TYPE_BINDING_REQUEST);
        Stun.putU32(plain, 4, Stun.MAGIC_COOKIE);
        System.arraycopy(txId, 0, plain, 8, txId.length);

        channel.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(plain), SERVER, BOB));

        DatagramPacket reply = channel.readOutbound();
        try {
            assertThat(Stun.parseBindingResponse(ByteBufUtil.getBytes(reply.content())))
                    .contains(new Stun.BindingResponse(txId, BOB));
        } finally {
            reply.release();
        }
    }

    @Test
    void ignoresAndReleasesEverythingElse() {
        ByteBuf[] garbage = {
            Unpooled.buffer(0),
            Unpooled.wrappedBuffer(new byte[] {1, 2, 3}),
            Unpooled.wrappedBuffer(Stun.bindingResponse(Stun.newTransactionId(), ALICE)),
            Unpooled.wrappedBuffer(Arrays.copyOf(Stun.bindingRequest(Stun.newTransactionId()), 30)),
        };
        for (ByteBuf buf : garbage) {
            channel.writeInbound(new DatagramPacket(buf, SERVER, ALICE));
        }

        assertThat((Object) channel.readOutbound()).isNull();
        assertThat(garbage).allSatisfy(buf -> assertThat(buf.refCnt()).isZero());
        assertThat(handler.ignored()).isEqualTo(garbage.length);
        assertThat(handler.answered()).isZero();
    }
}
