package dev.derphole.cli;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.SessionException;
import dev.derphole.session.SessionSide;
import dev.derphole.session.offer.ByteSize;
import dev.derphole.session.offer.ItemsLanding;
import dev.derphole.session.offer.Landing;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.OfferReceiver;
import dev.derphole.session.offer.ResumableLanding;
import dev.derphole.session.stream.StreamPort;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import io.netty.handler.codec.quic.QuicChannel;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code derphole receive [TOKEN]}: receive what one {@code derphole send} offers; without TOKEN, print one for {@code send --to}. */
@Command(name = "receive", aliases = {"rx", "recv"}, mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100,
    description = {
    "Receive what `derphole send` offers.",
    "",
    "Text goes to stdout; a file or directory to ./NAME (or -o PATH). It is written under a hidden",
    "temporary name beside the target and renamed only once complete and verified (SHA-256), so an",
    "interrupted transfer leaves nothing under the final name. An existing file or directory is",
    "never replaced without --force. Archive entries that are absolute, contain `..` or are links",
    "are refused. Several items land beside each other, all or none (-o is then a directory).",
    "Without TOKEN, prints one for `derphole send --to TOKEN WHAT` and waits (receiver first).",
    "",
    "  derphole receive <token>        derphole receive -o ~/Downloads <token>        derphole receive",
    ""})
final class ReceiveCommand implements Callable<Integer> {
  @ParentCommand
  DerpholeCommand global;

  @Parameters(index = "0", arity = "0..1", paramLabel = "TOKEN",
      description = "The token `derphole send` printed; without it, print one for `derphole send --to`.")
  String token;

  @Option(names = {"-o", "--output"}, paramLabel = "PATH",
      description = "Where to put a file or directory: an existing directory (it goes inside), or a new name."
          + " Text always goes to stdout.")
  String output;

  @Option(names = "--force", description = "Replace an existing file or directory of the same name.")
  boolean force;

  @Mixin
  HideProgress hideProgress;

  @Mixin
  ForceRelay forceRelay;

  @Mixin
  TokenDisplay display;

  @Option(names = "--no-resume", description = "Neither resume from nor keep a partial transfer; receive everything afresh.")
  boolean noResume;

  @Mixin
  ParallelOption parallel;

  @Override
  public Integer call() throws Exception {
    int lanes = parallel.lanes();
    Token t = token == null ? null : SessionSetup.token(token, Capability.OFFER);
    StreamPort port = new StreamPort();
    AtomicReference<ResumableLanding> landing = new AtomicReference<>();
    AtomicReference<ItemsLanding> items = new AtomicReference<>();
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced, lanes)) {
      StripedOffer.Receiving striped = new StripedOffer.Receiving(setup.options.reporter());
      try (SessionSide session = t != null ? ClaimedSession.claim(t, setup.options, striped.streams(port), lanes, striped.striped)
               : ReceiverFirst.open(setup, display, striped.streams(port), lanes)) {
        striped.session.set(session);
        session.useLanes(striped.striped);
        return receiveOffer(setup, session, t, port, landing, items, striped);
      }
    }
  }

  private Integer receiveOffer(SessionSetup setup, SessionSide session, Token t, StreamPort port,
                               AtomicReference<ResumableLanding> landing, AtomicReference<ItemsLanding> items,
                               StripedOffer.Receiving striped) throws Exception {
    {
      Runnable discard = () -> {
        ResumableLanding l = landing.get();
        String kept = l == null ? null : l.abandon(!noResume);
        if (kept != null) {
          System.err.println(kept);
        }
        ItemsLanding i = items.get();
        if (i != null) {
          i.discard();
        }
      };
      QuicChannel quic;
      try (InterruptHook hook = new InterruptHook(session, discard)) {
        String verify;
        if (session instanceof IssuedSession issued) {
          quic = issued.awaitConnection();
          verify = issued.token().verificationCode();
        } else {
          quic = ((ClaimedSession) session).connection();
          verify = t.verificationCode();
        }
        OfferReceiver receiver = new OfferReceiver(striped.fromSender(port.in()), striped.toSender(port.out()));
        OfferHeader header;
        try {
          header = receiver.readHeader(verify);
        } catch (SessionException | IOException e) {
          throw PeerFailure.tell(session, e);
        }
        Progress progress = new Progress(System.err, header.size(), !hideProgress.hidden && Progress.stderrIsTerminal());
        try {
          if (header.kind() == OfferKind.ITEMS) {
            SeveralPaths.receive(receiver, header, items, progress, " (verification code " + verify + ")", output, force);
          } else {
            receive(receiver, header, landing, progress, verify);
          }
        } catch (SessionException | IOException e) {
          progress.abandon();
          discard.run();
          throw PeerFailure.tell(session, e, receiver::fail);
        }
        hook.done();
        striped.finish();
        setup.options.reporter().event("stream-complete", header.size() + " bytes");
      }
      // The sender closes the connection once it has read our confirmation; give it a moment.
      quic.closeFuture().await(5, TimeUnit.SECONDS);
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
      default -> throw new IllegalStateException(header.kind().toString());
    }
  }
}
