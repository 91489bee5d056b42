package dev.derphole.cli;

import dev.derphole.session.IssuedSession;
import dev.derphole.session.SessionException;
import dev.derphole.session.stream.StreamReceiver;
import dev.derphole.session.token.Capability;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/** {@code derphole listen}: receive one byte stream on stdout. */
@Command(name = "listen", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Wait for one byte stream and write it to stdout.",
    "Prints a token on stderr; on the other machine, `derphole pipe <token>` sends its stdin here.",
    "",
    "  derphole listen > received.img          cat disk.img | derphole pipe <token>",
    "  derphole listen | tar -xpf - -C /restore tar -cpf - /srv/data | derphole pipe <token>",
    ""})
final class ListenCommand implements Callable<Integer> {
  @ParentCommand
  DerpholeCommand global;

  @Mixin
  TokenDisplay display;

  @Mixin
  ForceRelay forceRelay;

  @Override
  public Integer call() throws Exception {
    StreamReceiver receiver = new StreamReceiver(new FileOutputStream(FileDescriptor.out));
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced);
         IssuedSession session = IssuedSession.open(Capability.STREAM, setup.options, firstStreamOnly(receiver))) {
      display.show("derphole pipe", session.token().encode());
      setup.options.reporter().event("waiting-for-claim", "");
      AtomicBoolean finished = new AtomicBoolean();
      Thread hook = new Thread(() -> {
        if (!finished.get()) {
          session.interrupt();
        }
      });
      Runtime.getRuntime().addShutdownHook(hook);
      QuicChannel quic = session.awaitConnection();
      long bytes;
      try {
        bytes = receiver.done().get();
      } catch (ExecutionException e) {
        throw new SessionException(session.reason(e.getCause().getMessage()), e.getCause());
      }
      finished.set(true);
      setup.options.reporter().event("stream-complete", bytes + " bytes");
      // The sender closes the connection once it has our confirmation; give it a moment.
      quic.closeFuture().await(5, TimeUnit.SECONDS);
      Runtime.getRuntime().removeShutdownHook(hook);
      return Launcher.OK;
    }
  }

  /** The stream product carries exactly one stream; any other is closed at once. */
  static ChannelHandler firstStreamOnly(ChannelHandler handler) {
    AtomicBoolean taken = new AtomicBoolean();
    return new ChannelInitializer<QuicStreamChannel>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        if (taken.compareAndSet(false, true)) {
          ch.pipeline().addLast(handler);
        } else {
          ch.close();
        }
      }
    };
  }
}
