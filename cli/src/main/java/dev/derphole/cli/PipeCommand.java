package dev.derphole.cli;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.SessionException;
import dev.derphole.session.stream.StreamSender;
import dev.derphole.session.stream.StripedSender;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import dev.derphole.session.token.TokenException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code derphole pipe <token>}: send stdin to a {@code derphole listen}. */
@Command(name = "pipe", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Send stdin to the `derphole listen` that printed TOKEN.",
    "Exits 0 only once the other side has received everything.",
    ""})
final class PipeCommand implements Callable<Integer> {
  @ParentCommand
  DerpholeCommand global;

  @Parameters(index = "0", paramLabel = "TOKEN", description = "The token `derphole listen` printed.")
  String token;

  @Mixin
  ForceRelay forceRelay;

  @Mixin
  ParallelOption parallel;

  @Override
  public Integer call() throws Exception {
    int lanes = parallel.lanes();
    Token t;
    try {
      t = Token.decodeFor(token, Capability.STREAM, Instant.now());
    } catch (TokenException e) {
      throw new SessionException(e.getMessage());
    }
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced, lanes);
         ClaimedSession session = ClaimedSession.claim(t, setup.options, null, lanes, null)) {
      AtomicBoolean finished = new AtomicBoolean();
      Thread hook = new Thread(() -> {
        if (!finished.get()) {
          session.interrupt();
        }
      });
      Runtime.getRuntime().addShutdownHook(hook);
      long sent;
      try {
        if (session.lanes().agreed() > 1) {
          sent = StripedSender.send(session.connection(), session.lanes(), new FileInputStream(FileDescriptor.in),
              session.reporter(), lanes, parallel.mode(), n -> { }, session::useLanes);
        } else {
          session.reporter().event("lanes", parallel.describe(1));
          sent = StreamSender.send(session.connection(), new FileInputStream(FileDescriptor.in), n -> { });
        }
      } catch (SessionException e) {
        throw new SessionException(session.reason(e.getMessage()), e);
      }
      finished.set(true);
      Runtime.getRuntime().removeShutdownHook(hook);
      setup.options.reporter().event("stream-complete", sent + " bytes");
      return Launcher.OK;
    }
  }
}
