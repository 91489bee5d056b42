package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.claim.Claim;
import dev.derphole.session.claim.Envelope;
import dev.derphole.session.claim.EnvelopeKind;
import dev.derphole.session.claim.SessionKeys;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.OfferReceiver;
import dev.derphole.session.offer.OfferSender;
import dev.derphole.session.offer.Verdict;
import dev.derphole.session.stream.StreamPort;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.Token;
import dev.derphole.session.tunnel.ClientToken;
import dev.derphole.session.tunnel.TunnelClient;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A hostile peer in the test JVM (real tokens, real claims, real QUIC over the test relay) puts
 * terminal escapes in every field it controls that the real tools print: ESC sequences (OSC 52,
 * which writes the clipboard, and a screen clear), the one-byte C1 CSI (U+009B), a line break
 * that would forge a line of output, and the right-to-left override U+202E. Whatever the field,
 * the other side's stderr has none of them, and shows each escaped ({@code \x9b}, <code>&#92;u202e</code>):
 *
 * <pre>
 *   field                        hostile peer           printed by
 *   file name (refused, shown)   sender                 derphole receive
 *   file name (accepted, shown)  sender                 derphole receive
 *   verification code            sender                 derphole receive
 *   abort reason (sealed)        sender                 derphole receive
 *   QUIC close reason            sender                 derphole receive
 *   claim reject reason          issuer                 derphole receive
 *   verdict reason               receiver               derphole send
 *   SSH key comment              ssh accept             derphole ssh invite
 *   the host's note              ssh invite             derphole ssh accept
 *   QUIC close reason            derptun client         derptun serve --verbose (its log)
 * </pre>
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HostilePeerTextIT extends RelayedIT {
  static final Duration DONE = Duration.ofSeconds(60);
  /** OSC 52 (clipboard), ESC [2J, C1 CSI 2J, a forged line, and an override that shows "exe.png". */
  static final String HOSTILE =
      "x\u001b]52;c;aGFja2Vk\u0007\u001b[2J\u009b2J\nderphole: forged\u202egnp.exe";
  /** {@link #HOSTILE} as the other side must show it. */
  static final String HOSTILE_SHOWN = "x\\x1b]52;c;aGFja2Vk\\x07\\x1b[2J\\x9b2J\\x0aderphole: forged\\u202egnp.exe";
  /** No C0 character: what the old filters (C0 and DEL) let through whole. */
  static final String HOSTILE_C1 = "x\u009b2J\u202egnp.exe";

  private EventLoopGroup group;

  @BeforeEach
  void eventLoop() {
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  }

  @AfterEach
  void stopEventLoop() throws Exception {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
  }

  /** What a terminal must never get from the other side: C0 but the line feed, DEL, C1, bidi controls. */
  private static boolean forbidden(int c) {
    return c < 0x20 && c != '\n' || c >= 0x7f && c <= 0x9f
        || c == 0x061c || c == 0x200e || c == 0x200f || c >= 0x202a && c <= 0x202e || c >= 0x2066 && c <= 0x2069;
  }

  /** {@code p}'s stderr has no forbidden character and shows {@code escaped} (so the field did reach it). */
  private static void assertEscaped(Derphole p, String... escaped) {
    String err = p.stderr();
    List<String> found = err.codePoints().filter(HostilePeerTextIT::forbidden)
        .mapToObj(c -> String.format("U+%04X", c)).distinct().toList();
    assertThat(found).as("control characters on %s's stderr:%n%s", p.name, err).isEmpty();
    assertThat(err).as("%s's stderr", p.name).contains(escaped);
    assertThat(err).as("%s's stderr: no line forged", p.name).doesNotContainPattern("(?m)^derphole: forged");
  }

  private static ChannelInitializer<QuicStreamChannel> into(StreamPort port) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        ch.pipeline().addLast(port);
      }
    };
  }

  /** The receiver refuses {@code header}: with a verdict, or by ending the session before one. */
  private static void offerRefused(RawSender sender, OfferHeader header) {
    Verdict v;
    try {
      v = sender.offer(header);
    } catch (Exception noVerdict) {
      return;
    }
    assertThat(v.yes()).as("the offer of %s", header).isFalse();
  }

  private Derphole receive(String token) {
    return Offers.receive(processes, dir, relay, token);
  }

  // ---------------------------------------------------------------- a hostile sender

  @Test
  void fileNamesAreShownEscapedWhetherRefusedOrAccepted() throws Exception {
    for (String name : new String[] {HOSTILE, HOSTILE_C1}) {
      try (RawSender sender = new RawSender(relay)) {
        Derphole receive = receive(sender.token());
        offerRefused(sender, new OfferHeader(OfferKind.FILE, name, 1, 1, 1, sender.verify()));
        receive.assertExit(1, DONE);
        assertEscaped(receive, "unsafe name", "\\x9b2J", "\\u202egnp.exe");
      }
      processes.close();
    }
    try (RawSender sender = new RawSender(relay)) {
      Derphole receive = receive(sender.token());
      String name = "photo\u202egnp.exe";
      byte[] body = {42};
      assertThat(sender.offer(new OfferHeader(OfferKind.FILE, name, 1, 1, 1, sender.verify())).yes()).isTrue();
      sender.write(body);
      assertThat(sender.finish(body).yes()).isTrue();
      receive.assertExit(0, DONE);
      assertEscaped(receive, "photo\\u202egnp.exe");
      assertThat(dir.resolve(name)).as("the name itself is the sender's").hasBinaryContent(body);
    }
  }

  @Test
  void theSendersVerificationCodeIsNotEchoedRaw() throws Exception {
    try (RawSender sender = new RawSender(relay)) {
      Derphole receive = receive(sender.token());
      offerRefused(sender, new OfferHeader(OfferKind.FILE, "a.txt", 1, 1, 1, HOSTILE_C1));
      receive.assertExit(1, DONE);
      assertEscaped(receive, "derphole: ");
    }
  }

  @Test
  void anAbortOrQuicCloseReasonIsShownEscaped() throws Exception {
    for (boolean quicAlone : new boolean[] {false, true}) {
      try (RawSender sender = new RawSender(relay)) {
        Derphole receive = receive(sender.token());
        assertThat(sender.offer(new OfferHeader(OfferKind.FILE, "a.txt", 10, 1, 10, sender.verify())).yes()).isTrue();
        if (quicAlone) {
          sender.closeQuic(HOSTILE); // no sealed abort beside it
        } else {
          sender.fail(HOSTILE); // the sealed abort over the relay, then QUIC's close with the same words
        }
        receive.assertExit(1, DONE);
        assertEscaped(receive, "the other side failed: " + HOSTILE_SHOWN);
      }
      processes.close();
    }
  }

  // ---------------------------------------------------------------- a hostile issuer

  /** The issuer is a bare DERP client that answers the claim with a sealed reject it wrote by hand. */
  @Test
  void aClaimRejectReasonIsShownEscaped() throws Exception {
    try (RelayPeer issuer = new RelayPeer(relay.node(), group)) {
      Token token = Token.issue(Capability.OFFER, issuer.publicKey(), issuer.tlsKey,
          new RelayHint(relay.node().regionId(), Optional.empty()), Instant.now());
      SessionKeys keys = SessionKeys.of(token);
      Derphole receive = receive(token.encode());
      RelayPeer.Arrival a;
      do {
        a = issuer.poll(DONE);
        assertThat(a).as("a claim from receive; its stderr:%n%s", receive.stderr()).isNotNull();
      } while (!a.isPacket());
      Claim claim = Claim.parse(
          Envelope.open(keys.claimKey(), token.sessionId(), a.packet()).orElseThrow().plaintext());
      String json = "{\"accepted\":false,\"claim_nonce\":\""
          + Base64.getUrlEncoder().withoutPadding().encodeToString(claim.nonce()) + "\",\"reject_code\":\"nope\","
          + "\"reject_reason\":\""
          + HOSTILE.replace("\u001b", "\\u001b").replace("\u0007", "\\u0007").replace("\n", "\\n") + "\"}";
      issuer.send(a.source(), Envelope.seal(EnvelopeKind.DECISION, keys.decisionKey(), token.sessionId(),
          json.getBytes(StandardCharsets.UTF_8)));
      receive.assertExit(1, DONE);
      assertEscaped(receive, "derphole: " + HOSTILE_SHOWN);
    }
  }

  // ---------------------------------------------------------------- a hostile receiver

  @Test
  void aVerdictReasonIsShownEscaped() throws Exception {
    Files.writeString(dir.resolve("a.txt"), "hello");
    Derphole send = Offers.send(processes, dir, relay, Path.of("/dev/null"), "a.txt");
    Token t = Token.decodeFor(Offers.token(send), Capability.OFFER, Instant.now());
    StreamPort port = new StreamPort();
    try (ClaimedSession s = ClaimedSession.claim(t, RawSender.options(relay, group), into(port))) {
      OfferReceiver receiver = new OfferReceiver(port.in(), port.out());
      receiver.readHeader(t.verificationCode());
      receiver.refuse(HOSTILE, "");
      send.assertExit(1, DONE);
    }
    assertEscaped(send, "derphole: the receiver declined: " + HOSTILE_SHOWN);
  }

  // ---------------------------------------------------------------- ssh invite / accept

  static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHrL6s4WdeBI3lnoqF9P9Eg9EehTc7vO0tUc2xEihZAP";

  private Derphole invite(Path home) {
    ProcessBuilder pb = Derphole.builder(dir, "invite", relay.mapFile(), "ssh", "invite");
    pb.environment().put("DERPHOLE_SSH_HOME", home.toString());
    pb.redirectOutput(dir.resolve("invite.stdout").toFile()).redirectInput(Path.of("/dev/null").toFile());
    return new Derphole("invite", processes.start(pb), dir.resolve("invite.stdout"), dir.resolve("invite.stderr"));
  }

  /** A raw {@code ssh accept}: offers {@code line}, returns the host's final answer (or its refusal, as a failure). */
  private void rawAccept(String token, String line) throws Exception {
    Token t = Token.decodeFor(token, Capability.SSH, Instant.now());
    try (ClaimedSession s = ClaimedSession.claim(t, RawSender.options(relay, group), null)) {
      StreamPort port = new StreamPort();
      s.connection().createStream(QuicStreamType.BIDIRECTIONAL, port).get(30, TimeUnit.SECONDS);
      byte[] body = line.getBytes(StandardCharsets.UTF_8);
      try {
        OfferSender.send(new OfferHeader(OfferKind.SSH_KEY, "x", body.length, 0, body.length, t.verificationCode()),
            out -> out.write(body), port.in(), port.out(), n -> { });
      } catch (Exception refused) {
        // the host may refuse the key: what it prints is the point
      }
    }
  }

  @Test
  void anSshKeyCommentIsShownEscapedOrRefused() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    // With C1 in it the comment is refused (it is a control character); with only the override it
    // is added, and shown escaped.
    for (String comment : new String[] {HOSTILE_C1, "alice\u202egnp.exe"}) {
      Derphole invite = invite(home);
      rawAccept(invite.awaitStderr(SshInviteIT.ACCEPT_LINE).group(1), KEY + " " + comment);
      invite.exitWithin(DONE);
      assertEscaped(invite, comment.startsWith("alice") ? "alice\\u202egnp.exe" : "control characters");
      processes.close();
    }
    assertThat(Files.readString(home.resolve(".ssh/authorized_keys"))).isEqualTo(KEY + " alice\u202egnp.exe\n");
  }

  @Test
  void theHostsNoteIsShownEscaped() throws Exception {
    Path pub = Files.writeString(dir.resolve("id.pub"), KEY + " alice@laptop\n");
    StreamPort port = new StreamPort();
    try (IssuedSession host = IssuedSession.open(Capability.SSH, RawSender.options(relay, group), into(port))) {
      Derphole accept = Derphole.start(processes, dir, "accept", relay.mapFile(), Path.of("/dev/null"),
          "ssh", "accept", host.token().encode(), "--key-file", pub.toString(), "--yes");
      host.awaitConnection();
      OfferReceiver receiver = new OfferReceiver(port.in(), port.out());
      receiver.readHeader(host.token().verificationCode());
      receiver.accept();
      receiver.receiveBody(in -> in.transferTo(OutputStream.nullOutputStream()), n -> { });
      receiver.confirm(HOSTILE);
      accept.assertExit(0, DONE);
      assertEscaped(accept, "The host says: " + HOSTILE_SHOWN);
    }
  }

  // ---------------------------------------------------------------- derptun serve's log

  @Test
  void aDerptunClientsCloseReasonIsLoggedEscaped() throws Exception {
    String server = Derptun.token(processes, dir, "mint-server", relay.mapFile(), "dts1_", "token", "server");
    Path serverFile = Derptun.file(dir, "server.dts", server);
    String client = Derptun.token(processes, dir, "mint-client", relay.mapFile(), "dtc1_", "token", "client",
        "--token-file", serverFile.toString());
    Derphole serve = Derptun.start(processes, dir, "serve", relay.mapFile(), "serve", "--verbose",
        "--token-file", serverFile.toString(), "--tcp", "127.0.0.1:9");
    serve.awaitStderr(Pattern.compile("(?m)^serving "));
    try (TunnelClient c = new TunnelClient(ClientToken.decodeForConnect(client, "test", Instant.now()),
        RawSender.options(relay, group)).start()) {
      QuicChannel q = c.awaitConnection(DONE);
      serve.awaitEvent("client-connected");
      q.close(true, 2, Unpooled.copiedBuffer(HOSTILE, StandardCharsets.UTF_8)).await(10, TimeUnit.SECONDS);
      serve.awaitEvent("client-disconnected");
    }
    assertEscaped(serve, "the other side failed: " + HOSTILE_SHOWN);
  }
}
