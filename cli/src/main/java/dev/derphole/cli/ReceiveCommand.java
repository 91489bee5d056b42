package dev.derphole.cli;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.SessionException;
import dev.derphole.session.offer.ByteSize;
import dev.derphole.session.offer.Landing;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.OfferReceiver;
import dev.derphole.session.offer.ResumableLanding;
import dev.derphole.session.stream.StreamPort;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code derphole receive TOKEN}: receive what one {@code derphole send} offers. */
@Command(name = "receive", aliases = {"rx", "recv"}, mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100,
    description = {
    "Receive what `derphole send` offers.",
    "",
    "Text goes to stdout; a file or directory to ./NAME (or -o PATH). It is written under a hidden",
    "temporary name beside the target and renamed only once complete and verified (SHA-256), so an",
    "interrupted transfer leaves nothing under the final name. An existing file or directory is",
    "never replaced without --force. Archive entries that are absolute, contain `..` or are links",
    "are refused.",
    "",
    "  derphole receive <token>        derphole receive -o ~/Downloads <token>",
    ""})
final class ReceiveCommand implements Callable<Integer> {
  @ParentCommand
  DerpholeCommand global;

  @Parameters(index = "0", paramLabel = "TOKEN", description = "The token `derphole send` printed.")
  String token;

  @Option(names = {"-o", "--output"}, paramLabel = "PATH",
      description = "Where to put a file or directory: an existing directory (it goes inside), or a new name."
          + " Text always goes to stdout.")
  String output;

  @Option(names = "--force", description = "Replace an existing file or directory of the same name.")
  boolean force;

  @Option(names = "--hide-progress", description = "No progress bar (the final summary line stays).")
  boolean hideProgress;

  @Option(names = "--force-relay", description = "Never send UDP to the peer; the relay carries everything.")
  boolean forceRelay;

  @Option(names = "--no-resume", description = "Neither resume from nor keep a partial transfer; receive everything afresh.")
  boolean noResume;

  @Override
  public Integer call() throws Exception {
    Token t = SessionSetup.token(token, Capability.OFFER);
    StreamPort port = new StreamPort();
    AtomicReference<ResumableLanding> landing = new AtomicReference<>();
    try (SessionSetup setup = new SessionSetup(global, forceRelay);
         ClaimedSession session = ClaimedSession.claim(t, setup.options, ListenCommand.firstStreamOnly(port))) {
      Runnable discard = () -> {
        ResumableLanding l = landing.get();
        String kept = l == null ? null : l.abandon(!noResume);
        if (kept != null) {
          System.err.println(kept);
        }
      };
      try (InterruptHook hook = new InterruptHook(session, discard)) {
        OfferReceiver receiver = new OfferReceiver(port.in(), port.out());
        OfferHeader header;
        try {
          header = receiver.readHeader(t.verificationCode());
        } catch (SessionException | IOException e) {
          throw PeerFailure.tell(session, e);
        }
        Progress progress = new Progress(System.err, header.size(), !hideProgress && Progress.stderrIsTerminal());
        try {
          receive(receiver, header, landing, progress, t.verificationCode());
        } catch (SessionException | IOException e) {
          progress.abandon();
          discard.run();
          throw PeerFailure.tell(session, e, receiver::fail);
        }
        hook.done();
        setup.options.reporter().event("stream-complete", header.size() + " bytes");
      }
      // The sender closes the connection once it has read our confirmation; give it a moment.
      session.connection().closeFuture().await(5, TimeUnit.SECONDS);
      return Launcher.OK;
    }
  }

  private void receive(OfferReceiver receiver, OfferHeader header, AtomicReference<ResumableLanding> landing, Progress progress,
                       String verify) throws SessionException, IOException {
    String size = ByteSize.format(header.size());
    String code = " (verification code " + verify + ")";
    switch (header.kind()) {
      case TEXT -> {
        receiver.accept();
        System.err.println("Receiving text message (" + size + ")" + code
            + (output != null ? "; it goes to stdout (-o is for files and directories)" : ""));
        ByteArrayOutputStream text = new ByteArrayOutputStream((int) header.size());
        receiver.receiveBody(body -> body.transferTo(text), n -> { });
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        out.write(text.toByteArray());
        if (System.console() != null && text.size() > 0 && text.toByteArray()[text.size() - 1] != '\n') {
          out.write('\n');
        }
        out.flush();
        receiver.confirm("");
      }
      case FILE, DIRECTORY -> {
        boolean dir = header.kind() == OfferKind.DIRECTORY;
        ResumableLanding l;
        try {
          Path target = Landing.target(Path.of("").toAbsolutePath(), output, header.name());
          l = ResumableLanding.prepare(target, header, force, !noResume, System.err::println);
        } catch (Landing.Refused e) {
          throw receiver.refuse(e.toSender(), e.getMessage()); // the sender is not told this machine's paths
        } catch (SessionException e) {
          throw receiver.refuse(e.getMessage(), e.getMessage());
        }
        landing.set(l);
        long start = l.accept(receiver, System.err::println);
        System.err.println((dir
            ? "Receiving directory (" + SendCommand.directorySize(header.files(), header.contentBytes(), header.size())
                + ") into " + OfferHeader.quote(l.landing().target() + "/") + code
            : "Receiving file (" + size + ") into " + OfferHeader.quote(l.landing().target().toString()) + code)
            + (start > 0 ? "; resuming after the " + ByteSize.format(start) + " kept earlier" : ""));
        l.receive(receiver, progress::update);
        l.commit();
        receiver.confirm("saved as " + l.landing().target());
        progress.finish(header.size(), "Received");
      }
      case SSH_KEY -> {
        throw receiver.refuse("this is a send/receive session, not ssh accept", "the other side sent an ssh key, not a file");
      }
      default -> throw new IllegalStateException();
    }
  }
}
