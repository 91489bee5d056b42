package dev.derphole.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.RelayHint;
import dev.derphole.session.token.Token;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Receiver first: {@code derphole receive} without a token prints one and waits; {@code derphole
 * send --to TOKEN WHAT} sends to it, as two processes through a real relay. The token is of its
 * own kind (version 2, capability receive): given to another command it says which one it is for,
 * and it is one-shot and expires as the sender-first one does.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ReceiverFirstIT extends SendReceiveDirsIT {
  static final Duration TRANSFER = SendReceiveIT.TRANSFER;
  static final Path NO_INPUT = Path.of("/dev/null");
  /** What {@code derphole receive} prints for the other machine. */
  static final Pattern SEND_LINE = Pattern.compile("(?m)^derphole send --to (\\S+)\\R");

  private Derphole receive(String name, String... args) {
    List<String> all = new ArrayList<>(List.of("receive"));
    all.addAll(List.of(args));
    return Derphole.start(processes, to, name, relay.mapFile(), NO_INPUT, all.toArray(String[]::new));
  }

  private Derphole sendTo(String name, String token, String... what) {
    List<String> all = new ArrayList<>(List.of("send", "--to", token));
    all.addAll(List.of(what));
    return Derphole.start(processes, from, name, relay.mapFile(), NO_INPUT, all.toArray(String[]::new));
  }

  private static String token(Derphole receive) throws InterruptedException {
    return receive.awaitStderr(SEND_LINE).group(1);
  }

  @Test
  void aFileGoesToTheReceiverThatWentFirst() throws Exception {
    Path file = Bytes.randomFile(from.resolve("photo.jpg"), 3_000_001, 4);
    Derphole receive = receive("receive");
    String token = token(receive);
    assertThat(token).startsWith("dhoC"); // version 2
    Derphole send = sendTo("send", token, "photo.jpg");
    send.assertExit(0, TRANSFER);
    receive.assertExit(0, TRANSFER);
    assertThat(Bytes.sha256(to.resolve("photo.jpg"))).isEqualTo(Bytes.sha256(file));
    assertThat(send.stderrLines().get(0)).isEqualTo("Sending 2.9 MiB file named \"photo.jpg\"");
    // Both sides show the same verification code.
    java.util.regex.Matcher sent = Pattern.compile("Connected to the receiver; verification code (\\S+)")
        .matcher(send.stderr());
    assertThat(sent.find()).as("sender shows a code:%n%s", send.stderr()).isTrue();
    assertThat(receive.stderr()).contains("into \"" + to.resolve("photo.jpg") + "\" (verification code "
        + sent.group(1) + ")");
    assertThat(send.stdout).isEmptyFile();
    assertThat(receive.stdout).isEmptyFile();
  }

  @Test
  void textAndSeveralPathsGoToo() throws Exception {
    Derphole receive = receive("receive");
    Derphole send = sendTo("send", token(receive), "hello, wörld");
    send.assertExit(0, TRANSFER);
    receive.assertExit(0, TRANSFER);
    assertThat(Files.readString(receive.stdout, StandardCharsets.UTF_8)).isEqualTo("hello, wörld");
    processes.close();

    Files.writeString(from.resolve("a.txt"), "a\n");
    Files.createDirectories(from.resolve("d/e"));
    Files.writeString(from.resolve("d/e/f"), "f\n");
    Path inbox = Files.createDirectory(dir.resolve("inbox"));
    receive = receive("receive2", "-o", inbox.toString());
    send = sendTo("send2", token(receive), "a.txt", "d");
    send.assertExit(0, TRANSFER);
    receive.assertExit(0, TRANSFER);
    assertThat(Offers.tree(inbox.resolve("d"))).isEqualTo(Offers.tree(from.resolve("d")));
    assertThat(inbox.resolve("a.txt")).hasContent("a");
  }

  // ---------------------------------------------------------------- tokens of the wrong kind

  /** A well-formed token for a session nobody runs. */
  private static Token token(Capability capability, Instant issued) {
    return Token.issue(capability, NodePrivateKey.generate().publicKey(), RelayPeer.freshTlsKey(),
        new RelayHint(900, Optional.empty()), issued);
  }

  private int refusals;

  /** {@code derphole ARGS} exits with {@code code} and one line; returns the message after "derphole: ". */
  private String refuses(int code, String... args) throws Exception {
    Derphole p = Derphole.start(processes, from, "refused-" + ++refusals, relay.mapFile(), NO_INPUT, args);
    p.assertExit(code, TRANSFER);
    assertThat(p.stdout).isEmptyFile();
    return p.assertOneLineError();
  }

  @Test
  void aTokenOfTheWrongKindSaysWhichCommandItIsFor() throws Exception {
    String receiveToken = token(Capability.RECEIVE, Instant.now()).encode();
    assertThat(refuses(1, "receive", receiveToken))
        .isEqualTo("this token is for `derphole send --to`, not `derphole receive`");
    assertThat(refuses(1, "pipe", receiveToken)).isEqualTo("this token is for `derphole send --to`, not `derphole pipe`");
    assertThat(refuses(1, "send", "--to", token(Capability.OFFER, Instant.now()).encode(), "x"))
        .isEqualTo("this token is for `derphole receive`, not `derphole send --to`");
    // Pasted as what to send, it would have gone out as text.
    assertThat(refuses(2, "send", receiveToken))
        .isEqualTo("that is a token from `derphole receive`; send to it with `derphole send --to TOKEN WHAT`");
  }

  @Test
  void anExpiredTokenSaysHowLongAgo() throws Exception {
    Token expired = token(Capability.RECEIVE, Instant.now().minus(Duration.ofHours(2)));
    assertThat(refuses(1, "send", "--to", expired.encode(), "x")).isEqualTo("the token expired 1 hour ago");
  }

  @Test
  void aSecondSenderIsToldSessionAlreadyClaimedAndTheFirstTransferCompletesIntact() throws Exception {
    long size = 256L << 20;
    try (RandomAccessFile f = new RandomAccessFile(from.resolve("big.bin").toFile(), "rw")) {
      f.setLength(size); // sparse: cheap to make
    }
    Files.writeString(from.resolve("other.txt"), "other\n");
    Derphole receive = receive("receive");
    String token = token(receive);
    Derphole first = sendTo("first", token, "big.bin");
    receive.awaitStderr(Pattern.compile("Receiving file"));
    awaitReceived(receive, 1 << 20);
    // The first transfer holds still mid-way (its sender stopped) while the second sender claims:
    // the second claim lands during the transfer however fast the machine is.
    signal(first, "STOP");
    try {
      assertThat(receive.process.isAlive()).as("the first transfer is still running").isTrue();
      assertThat(to.resolve("big.bin")).as("the first transfer is still running").doesNotExist();
      Derphole second = sendTo("second", token, "other.txt");
      second.assertExit(1, TRANSFER);
      assertThat(second.lastStderrLine()).hasValue("derphole: session already claimed");
    } finally {
      signal(first, "CONT");
    }
    first.assertExit(0, TRANSFER);
    receive.assertExit(0, TRANSFER);
    assertThat(Files.size(to.resolve("big.bin"))).isEqualTo(size);
    assertThat(Offers.names(to)).containsOnly("big.bin", "receive.stderr", "receive.stdout");
  }

  /** Waits until the receiver's hidden partial in {@code to} holds at least {@code bytes}. */
  private void awaitReceived(Derphole receive, long bytes) throws Exception {
    long deadline = System.nanoTime() + TRANSFER.toNanos();
    while (true) {
      long held;
      try (java.util.stream.Stream<Path> s = Files.list(to)) {
        held = s.filter(p -> p.getFileName().toString().endsWith(".part"))
            .mapToLong(p -> p.toFile().length()).max().orElse(0);
      }
      if (held >= bytes) {
        return;
      }
      assertThat(receive.process.isAlive()).as("receiver alive; stderr:%n%s", receive.stderr()).isTrue();
      assertThat(System.nanoTime()).as("the partial reaches %d bytes", bytes).isLessThan(deadline);
      Thread.sleep(5); // polling a file size, not synchronizing on time
    }
  }

  /** kill -SIG on the process (the launcher execs java, so its pid is the tool's). */
  private static void signal(Derphole p, String sig) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(p.process.pid())).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -%s %s", sig, p).isTrue();
  }
}
