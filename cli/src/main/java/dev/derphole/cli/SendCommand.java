package dev.derphole.cli;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.SessionSide;
import dev.derphole.session.SessionException;
import dev.derphole.session.offer.ByteSize;
import dev.derphole.session.offer.DirectoryTar;
import dev.derphole.derp.io.Failures;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.OfferSender;
import dev.derphole.session.offer.ResumeId;
import dev.derphole.session.stream.StreamPort;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code derphole send [WHAT...]}: offer text, files or directories to one {@code derphole receive}. */
@Command(name = "send", aliases = "tx", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Send text, files or directories to one `derphole receive`.",
    "",
    "Prints the command to run on the other machine; exits 0 only once the receiver has",
    "everything, verified (SHA-256).",
    "",
    "WHAT is an existing directory (sent with its tree, file modes and empty directories), an",
    "existing file, or else text; without WHAT, the text comes from stdin (at most 16 MiB).",
    "Symbolic links inside a directory are refused, not followed. Several WHATs, each a file or",
    "directory, go in one offer and land beside each other (no two may have the same name).",
    "With --to, the receiver went first: `derphole receive` printed the TOKEN.",
    "",
    "  derphole send ./photo.jpg        derphole send ./project        echo hi | derphole send",
    "  derphole send a.txt photos/      derphole send --to TOKEN ./photo.jpg",
    ""})
final class SendCommand implements Callable<Integer> {
  @ParentCommand
  DerpholeCommand global;

  @Parameters(arity = "0..*", paramLabel = "WHAT", description = "A directory, a file, or text; or several files and directories.")
  List<String> whats = List.of();

  @Option(names = "--to", paramLabel = "TOKEN", description = "Send to the `derphole receive` that printed TOKEN.")
  String to;

  @Mixin
  HideProgress hideProgress;

  @Mixin
  TokenDisplay display;

  @Mixin
  ForceRelay forceRelay;

  @Option(names = "--no-resume", description = "Send everything, even if the receiver kept part of an earlier try.")
  boolean noResume;

  @Mixin
  ParallelOption parallel;

  /** The files and directories the body is made of (none for text): what a resume id describes. */
  final List<Path> sources = new ArrayList<>();

  /** What will be sent: the header, a summary for the user, and the body. */
  record Offer(OfferKind kind, String name, long size, long files, long contentBytes, String summary,
               OfferSender.Body body, List<String> items) {
    Offer(OfferKind kind, String name, long size, long files, long contentBytes, String summary, OfferSender.Body body) {
      this(kind, name, size, files, contentBytes, summary, body, List.of());
    }

    OfferHeader header(String verify) {
      return new OfferHeader(kind, name, size, files, contentBytes, verify, items);
    }
  }

  @Override
  public Integer call() throws Exception {
    int lanes = parallel.lanes();
    Token receiverToken = to == null ? null : SessionSetup.token(to, Capability.RECEIVE);
    Offer offer = prepare();
    String resumeId = noResume || sources.isEmpty() ? null
        : ResumeId.of(offer.kind, offer.name, offer.size, offer.files, offer.contentBytes, sources);
    if (receiverToken != null) {
      System.err.println(offer.summary);
    }
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced, lanes);
         SessionSide session = receiverToken != null
             ? ClaimedSession.claim(receiverToken, setup.options, refuseStreams(), lanes, null)
             : IssuedSession.open(Capability.OFFER, setup.options, refuseStreams(), lanes)) {
      if (session instanceof IssuedSession issued) {
        System.err.println(offer.summary);
        display.show("derphole receive", issued.token().encode());
        setup.options.reporter().event("waiting-for-claim", "");
      }
      try (InterruptHook hook = new InterruptHook(session)) {
        QuicChannel quic;
        String verify;
        if (session instanceof IssuedSession issued) {
          quic = issued.awaitConnection();
          verify = issued.token().verificationCode();
          System.err.println("Receiver connected; verification code " + verify);
        } else {
          quic = ((ClaimedSession) session).connection();
          verify = receiverToken.verificationCode();
          System.err.println("Connected to the receiver; verification code " + verify);
        }
        StreamPort port = new StreamPort();
        try {
          quic.createStream(QuicStreamType.BIDIRECTIONAL, port).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
          throw new SessionException(session.reason("could not open a stream to the receiver"), e);
        }
        Progress progress = new Progress(System.err, offer.size, !hideProgress.hidden && Progress.stderrIsTerminal());
        StripedOffer.Sending striped = new StripedOffer.Sending(session, quic, parallel);
        try {
          OfferHeader header = resumeId == null ? offer.header(verify) : offer.header(verify).withResume(resumeId);
          OfferSender.send(header, offer.body, port.in(), port.out(), progress::update,
              (start, held, size) -> ResumeNotes.sender(setup.options.reporter(), start, held, size), striped.afterAnswer());
        } catch (SessionException | IOException e) {
          progress.abandon();
          striped.abandon(e.getMessage());
          throw PeerFailure.tell(session, e);
        }
        striped.finish();
        hook.done();
        ResumeNotes.quicSent(setup.options.reporter(), quic, striped.lanesQuic());
        progress.finish(offer.size, "Sent");
        setup.options.reporter().event("stream-complete", offer.size + " bytes");
        return Launcher.OK;
      }
    }
  }

  /** The receiver opens no streams of its own; any it opens is closed. */
  static ChannelInitializer<QuicStreamChannel> refuseStreams() {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        ch.close();
      }
    };
  }

  private Offer prepare() throws SessionException, IOException {
    if (whats.size() > 1) {
      return SeveralPaths.offer(whats);
    }
    String what = whats.isEmpty() ? null : whats.get(0);
    if (what == null) {
      boolean terminal = System.console() != null;
      if (terminal) {
        System.err.println("Type the message, then Ctrl-D on a line of its own:");
      }
      byte[] text = readText(System.in);
      if (terminal && text.length == 0) {
        throw new Launcher.UsageException("nothing to send: the message is empty");
      }
      return text(text);
    }
    Path path = Path.of(what);
    if (Files.isSymbolicLink(path)) {
      throw DirectoryTar.linkRefused(what);
    }
    if (Files.isDirectory(path)) {
      Path abs = path.toAbsolutePath().normalize();
      if (abs.getFileName() == null) {
        throw new SessionException("cannot send the root directory; send a directory inside it");
      }
      String name = abs.getFileName().toString();
      DirectoryTar tar;
      try {
        tar = DirectoryTar.plan(abs);
      } catch (IOException e) {
        throw new SessionException("cannot read the directory " + OfferHeader.quote(what) + ": " + Failures.describe(e), e);
      }
      String summary = "Sending directory named " + OfferHeader.quote(name) + " ("
          + directorySize(tar.files(), tar.contentBytes(), tar.size()) + ")";
      sources.add(abs);
      return new Offer(OfferKind.DIRECTORY, name, tar.size(), tar.files(), tar.contentBytes(), summary, tar::writeTo);
    }
    if (Files.isRegularFile(path)) {
      Path abs = path.toAbsolutePath().normalize();
      String name = abs.getFileName().toString();
      if (!Files.isReadable(abs)) {
        throw new SessionException("cannot read " + OfferHeader.quote(what) + ": permission denied");
      }
      long size = Files.size(abs);
      String summary = "Sending " + ByteSize.format(size) + " file named " + OfferHeader.quote(name);
      sources.add(abs);
      return new Offer(OfferKind.FILE, name, size, 1, size, summary, out -> copyFile(abs, size, out));
    }
    if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      throw new SessionException(OfferHeader.quote(what) + " is neither a regular file nor a directory");
    }
    ReceiverFirst.refuseTokenAsText(what);
    Offer text = text(what.getBytes(StandardCharsets.UTF_8));
    if (looksLikeAPath(what)) {
      // A mistyped file name would otherwise go out as text without a word.
      return new Offer(text.kind, text.name, text.size, text.files, text.contentBytes,
          text.summary + "; there is no file or directory named " + OfferHeader.quote(what), text.body);
    }
    return text;
  }

  /**
   * "3 files, 9 B; 7.0 KiB as a tar stream": what the directory holds, and what travels, which is
   * what the progress bar and the final "Sent"/"Received" line count.
   */
  static String directorySize(long files, long contentBytes, long tarBytes) {
    return files + " file" + (files == 1 ? "" : "s") + ", " + ByteSize.format(contentBytes) + "; "
        + ByteSize.format(tarBytes) + " as a tar stream";
  }

  /** One word with a slash or a short extension: more likely a path than a message. */
  static boolean looksLikeAPath(String s) {
    return !s.isEmpty() && s.chars().noneMatch(Character::isWhitespace)
        && (s.contains("/") || s.matches(".*[^.]\\.[A-Za-z0-9]{1,5}"));
  }

  private static Offer text(byte[] text) {
    String summary = "Sending text message (" + ByteSize.format(text.length) + ")";
    return new Offer(OfferKind.TEXT, "", text.length, 0, text.length, summary, out -> out.write(text));
  }

  static byte[] readText(InputStream in) throws SessionException, IOException {
    byte[] text = in.readNBytes(OfferHeader.MAX_TEXT + 1);
    if (text.length > OfferHeader.MAX_TEXT) {
      throw new SessionException("stdin holds more than " + ByteSize.format(OfferHeader.MAX_TEXT)
          + " of text; send it as a file, or stream it with derphole listen/pipe");
    }
    return text;
  }

  /** Exactly {@code size} bytes of the file; one that shrank meanwhile is an error. */
  static void copyFile(Path file, long size, OutputStream out) throws SessionException, IOException {
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file, StandardOpenOption.READ)) {
      for (long left = size; left > 0; ) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new SessionException(OfferHeader.quote(file.getFileName().toString()) + " shrank while being sent; send it again");
        }
        out.write(buf, 0, n);
        left -= n;
      }
    }
  }
}
