package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.cli.QrPicture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What each command leaves on stderr under {@code -q} (a token for the other side, the address it
 * listens on, errors: nothing else) and {@code -s} (the error that ends it, nothing else), and
 * that a {@code --qr} code on stderr reads back, with ZXing's decoder, as what the other side
 * needs. Real processes through a real relay.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class OutputIT extends RelayedIT {
  static final Duration DONE = Duration.ofSeconds(120);
  static final Path NO_INPUT = Path.of("/dev/null");
  static final Pattern OPEN_LINE = Pattern.compile("(?m)^On the other machine, run:\\R^derphole open (\\S+)\\R");
  static final Pattern ACCEPT_LINE = Pattern.compile("(?m)^On the other machine, run:\\R^derphole ssh accept (\\S+)\\R");

  private static String block(String command, String token) {
    return "On the other machine, run:\nderphole " + command + " " + token + "\n";
  }

  @Test
  void listenQuietPrintsTheTokenBlockAloneAndPipeSilentPrintsNothing() throws Exception {
    Path data = Bytes.randomFile(dir.resolve("data.bin"), 1 << 20, 11);
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT, "-q", "listen");
    String token = listen.awaitToken();
    Derphole pipe = Derphole.start(processes, dir, "pipe", relay.mapFile(), data, "pipe", "-s", token);
    pipe.assertExit(0, DONE);
    listen.assertExit(0, DONE);
    assertThat(Bytes.sha256(listen.stdout)).isEqualTo(Bytes.sha256(data));
    assertThat(listen.stderr()).isEqualTo(block("pipe", token));
    assertThat(pipe.stderr()).isEmpty();
    assertThat(pipe.stdout).isEmptyFile();
  }

  @Test
  void listenWithQrDrawsACodeThatReadsAsTheCommandToRun() throws Exception {
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT, "listen", "--qr");
    String token = listen.awaitToken();
    String drawing = awaitDrawing(listen);
    assertThat(QrPicture.decode(drawing)).isEqualTo("derphole pipe " + token);
    assertThat(listen.stderr()).startsWith(block("pipe", token));
    // The token-only form codes the token alone.
    Derphole bare = Derphole.start(processes, dir, "bare", relay.mapFile(), NO_INPUT, "listen", "-q", "--qr",
        "--print-token-only");
    String bareToken = bare.awaitBareToken();
    assertThat(QrPicture.decode(awaitDrawing(bare))).isEqualTo(bareToken);
  }

  @Test
  void sendQuietPrintsTheTokenBlockAloneAndReceiveQuietAndSilentNothing() throws Exception {
    Path from = Files.createDirectory(dir.resolve("from"));
    Path to = Files.createDirectory(dir.resolve("to"));
    Path file = Bytes.randomFile(from.resolve("f.bin"), 3 << 20, 12);
    Derphole send = Derphole.start(processes, from, "send", relay.mapFile(), NO_INPUT, "send", "-q", "f.bin");
    String token = Offers.token(send);
    Derphole receive = Derphole.start(processes, to, "receive", relay.mapFile(), NO_INPUT, "-q", "receive", token);
    receive.assertExit(0, DONE);
    send.assertExit(0, DONE);
    assertThat(Bytes.sha256(to.resolve("f.bin"))).isEqualTo(Bytes.sha256(file));
    assertThat(send.stderr()).isEqualTo(block("receive", token));
    assertThat(receive.stderr()).isEmpty();

    Derphole text = Derphole.start(processes, from, "send-text", relay.mapFile(), NO_INPUT, "send", "-q", "hi there");
    Derphole silent = Derphole.start(processes, to, "receive-silent", relay.mapFile(), NO_INPUT, "receive", "-s",
        Offers.token(text));
    silent.assertExit(0, DONE);
    text.assertExit(0, DONE);
    assertThat(Files.readString(silent.stdout)).isEqualTo("hi there");
    assertThat(silent.stderr()).isEmpty();
  }

  @Test
  void pipeQuietAndReceiverFirstQuietAndVersionSilent() throws Exception {
    Path data = Bytes.randomFile(dir.resolve("data.bin"), 1 << 20, 13);
    Derphole listen = Derphole.start(processes, dir, "listen", relay.mapFile(), NO_INPUT, "listen");
    String token = listen.awaitToken();
    Derphole pipe = Derphole.start(processes, dir, "pipe", relay.mapFile(), data, "pipe", "-q", token);
    pipe.assertExit(0, DONE);
    listen.assertExit(0, DONE);
    assertThat(pipe.stderr()).isEmpty();

    // Receiver first: receive -q keeps the block the sender needs, send --to -q says nothing.
    Path from = Files.createDirectory(dir.resolve("from"));
    Path to = Files.createDirectory(dir.resolve("to"));
    Path file = Bytes.randomFile(from.resolve("g.bin"), 1 << 20, 14);
    Derphole receive = Derphole.start(processes, to, "receive", relay.mapFile(), NO_INPUT, "receive", "-q");
    String receiveToken = receive.awaitStderr(Pattern.compile("(?m)^derphole send --to (\\S+)\\R")).group(1);
    Derphole send = Derphole.start(processes, from, "send", relay.mapFile(), NO_INPUT, "send", "-q", "--to",
        receiveToken, "g.bin");
    send.assertExit(0, DONE);
    receive.assertExit(0, DONE);
    assertThat(Bytes.sha256(to.resolve("g.bin"))).isEqualTo(Bytes.sha256(file));
    assertThat(receive.stderr()).isEqualTo(block("send --to", receiveToken));
    assertThat(send.stderr()).isEmpty();

    Derphole version = Derphole.start(processes, dir, "version", relay.mapFile(), NO_INPUT, "version", "-s");
    version.assertExit(0, DONE);
    assertThat(Files.readString(version.stdout)).isNotBlank();
    assertThat(version.stderr()).isEmpty();
  }

  @Test
  void silentKeepsTheErrorThatEndsTheCommandAndOnlyIt() throws Exception {
    Derphole bad = Derphole.start(processes, dir, "receive-bad", relay.mapFile(), NO_INPUT, "receive", "-s", "dhoBnot-a-token");
    bad.assertExit(1, DONE);
    assertThat(bad.assertOneLineError()).isNotEmpty();
    Derphole pipe = Derphole.start(processes, dir, "pipe-bad", relay.mapFile(), NO_INPUT, "-s", "pipe", "nonsense");
    pipe.assertExit(1, DONE);
    pipe.assertOneLineError();
    Derphole accept = Derphole.start(processes, dir, "accept-bad", relay.mapFile(), NO_INPUT, "ssh", "accept", "-s",
        "--yes", "dhoBnot-a-token");
    accept.assertExit(1, DONE);
    accept.assertOneLineError();
    Derphole open = Derphole.start(processes, dir, "open-bad", relay.mapFile(), NO_INPUT, "-q", "open", "dhoBnot-a-token");
    open.assertExit(1, DONE);
    open.assertOneLineError();
  }

  @Test
  void silentIsRefusedWhereTheTokenIsTheOutputAndBesideVerboseOrQuiet() throws Exception {
    String[][] refused = {{"listen", "-s"}, {"send", "-s", "hello"}, {"share", "-s", "8080"}, {"ssh", "invite", "-s"},
        {"-v", "-q", "pipe", "dhoB"}, {"-s", "receive", "--quiet", "dhoB"}};
    for (int i = 0; i < refused.length; i++) {
      Derphole p = Derphole.start(processes, dir, "refused" + i, relay.mapFile(), NO_INPUT, refused[i]);
      p.assertExit(2, DONE);
      assertThat(p.stderrLines()).as("%s", String.join(" ", refused[i])).hasSize(2);
      assertThat(p.stderrLines().get(0)).matches("derphole: (--silent would hide the token.*|only one of --verbose, --quiet or --silent.*)");
      assertThat(p.stdout).isEmptyFile();
    }
  }

  @Test
  void shareQuietPrintsTheTokenBlockAndOpenQuietItsAddressThenTheErrorThatEndsIt() throws Exception {
    Derphole share = Derphole.start(processes, dir, "share", relay.mapFile(), NO_INPUT, "share", "-q", "9");
    String token = share.awaitStderr(OPEN_LINE).group(1);
    Derphole open = Derphole.start(processes, dir, "open", relay.mapFile(), NO_INPUT, "open", "-q", token);
    Matcher listening = open.awaitStderr(Pattern.compile("(?m)^listening on 127\\.0\\.0\\.1:\\d+\\R"));
    assertThat(share.stderr()).isEqualTo(block("open", token));
    share.process.destroy();
    share.exitWithin(DONE);
    open.assertExit(1, DONE);
    List<String> lines = open.stderrLines();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0) + "\n").isEqualTo(listening.group());
    assertThat(lines.get(1)).startsWith("derphole: the other side was interrupted");
  }

  @Test
  void openSilentSaysNothingButTheErrorThatEndsIt() throws Exception {
    Derphole share = Derphole.start(processes, dir, "share", relay.mapFile(), NO_INPUT, "-v", "share", "9");
    String token = share.awaitStderr(OPEN_LINE).group(1);
    Derphole open = Derphole.start(processes, dir, "open", relay.mapFile(), NO_INPUT, "open", "--silent", token);
    share.awaitEvent("sharing");
    share.process.destroy();
    share.exitWithin(DONE);
    open.assertExit(1, DONE);
    assertThat(open.assertOneLineError()).startsWith("the other side was interrupted");
  }

  @Test
  void sshInviteQuietPrintsTheTokenBlockAndItsCode() throws Exception {
    Path home = Files.createDirectory(dir.resolve("home"));
    ProcessBuilder pb = Derphole.builder(dir, "invite", relay.mapFile(), "ssh", "invite", "-q", "--qr")
        .redirectInput(NO_INPUT.toFile()).redirectOutput(dir.resolve("invite.stdout").toFile());
    pb.environment().put("DERPHOLE_SSH_HOME", home.toString());
    Derphole invite = new Derphole("invite", processes.start(pb), dir.resolve("invite.stdout"), dir.resolve("invite.stderr"));
    String token = invite.awaitStderr(ACCEPT_LINE).group(1);
    String drawing = awaitDrawing(invite);
    assertThat(QrPicture.decode(drawing)).isEqualTo("derphole ssh accept " + token);
    assertThat(invite.stderr()).isEqualTo(block("ssh accept", token) + drawing);
  }

  @Test
  void derptunQuietAndSilentAndItsCodes() throws Exception {
    // token: stdout is the token under -s too; --qr draws it on stderr, which -s refuses.
    String server = Derptun.token(processes, dir, "server", relay.mapFile(), "dts1_", "token", "server", "-s");
    Derphole drawn = Derptun.start(processes, dir, "drawn", relay.mapFile(), "token", "-q", "--qr");
    drawn.assertExit(0, DONE);
    String shared = Files.readString(drawn.stdout).strip();
    assertThat(shared).startsWith("dtt1_");
    assertThat(QrPicture.decode(QrPicture.drawingIn(drawn.stderr()))).isEqualTo(shared);
    Derphole refused = Derptun.start(processes, dir, "refused", relay.mapFile(), "token", "-s", "--qr");
    refused.assertExit(2, DONE);
    assertThat(refused.stderrLines().get(0)).isEqualTo("derptun: --qr draws on stderr, which --silent keeps empty");
    assertThat(refused.stdout).isEmptyFile();

    // serve -q --qr: no status line, a new client token and its code; open -q: its address alone.
    Path serverFile = Derptun.file(dir, "server.dts", server);
    Derphole serve = Derptun.start(processes, dir, "serve", relay.mapFile(), "serve", "-q", "--qr",
        "--token-file", serverFile.toString(), "--tcp", "127.0.0.1:9");
    Matcher client = serve.awaitStderr(Pattern.compile("(?m)^(dtc1_\\S+)$"));
    String drawing = awaitDrawing(serve);
    assertThat(QrPicture.decode(drawing)).isEqualTo(client.group(1));
    assertThat(serve.stderrLines().get(0)).startsWith("A new client token for `derptun open`, valid until ");
    assertThat(serve.stderr()).doesNotContain("serving");
    Path clientFile = Derptun.file(dir, "client.dtc", client.group(1));
    Derphole open = Derptun.start(processes, dir, "open", relay.mapFile(), "open", "-q", "--token-file",
        clientFile.toString());
    Derptun.listeningPort(open);
    assertThat(open.stderrLines()).hasSize(1);
    open.process.destroy();
    open.exitWithin(DONE);
    assertThat(open.stderrLines()).hasSize(1);

    // connect -s with a token that is no token: the one line of the error, nothing else.
    Derphole connect = Derptun.start(processes, dir, "connect", relay.mapFile(), "connect", "-s", "--stdio",
        "--token", "dtc1_AAAA");
    connect.assertExit(1, DONE);
    Derptun.oneLineError(connect);
  }

  @Test
  void derperQuietAndSilentSayNothingOnceListening() throws Exception {
    for (String flag : new String[] {"-q", "--silent"}) {
      Path d = Files.createDirectory(dir.resolve("derper" + flag));
      Path map = d.resolve("map.json");
      ProcessBuilder pb = new ProcessBuilder(Processes.bin("derper").toString(), flag, "--listen", "127.0.0.1:0",
          "--stun-port", "0", "--derp-map-out", map.toString()).directory(d.toFile())
          .redirectInput(NO_INPUT.toFile()).redirectOutput(d.resolve("stdout").toFile())
          .redirectError(d.resolve("stderr").toFile());
      Derphole.cleanEnvironment(pb);
      Derphole derper = new Derphole("derper" + flag, processes.start(pb), d.resolve("stdout"), d.resolve("stderr"));
      long deadline = System.nanoTime() + Derphole.WAIT.toNanos();
      while (!Files.exists(map)) {
        assertThat(derper.process.isAlive()).as("derper %s runs; stderr:%n%s", flag, derper.stderr()).isTrue();
        assertThat(System.nanoTime()).as("derper %s writes its map in time", flag).isLessThan(deadline);
        Thread.sleep(20);
      }
      assertThat(derper.stderr()).as("derper %s", flag).isEmpty();
      derper.process.destroy();
      derper.exitWithin(DONE);
      assertThat(derper.stderr()).as("derper %s", flag).isEmpty();
    }
  }

  /** Waits until stderr holds a whole QR drawing and returns it. */
  private static String awaitDrawing(Derphole p) throws InterruptedException {
    long deadline = System.nanoTime() + Derphole.WAIT.toNanos();
    String drawing = QrPicture.drawingIn(p.stderr());
    while (!QrPicture.complete(drawing)) {
      assertThat(System.nanoTime()).as("%s draws a whole code; stderr:%n%s", p.name, p.stderr()).isLessThan(deadline);
      Thread.sleep(20);
      drawing = QrPicture.drawingIn(p.stderr());
    }
    return drawing;
  }
}
