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
import dev.derphole.session.stream.StripedReceiver;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
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

  @Mixin
  ParallelOption parallel;

  @Override
  public Integer call() throws Exception {
    int lanes = parallel.lanes();
    FileOutputStream out = new FileOutputStream(FileDescriptor.out);
    AtomicReference<IssuedSession> self = new AtomicReference<>();
    CompletableFuture<CompletableFuture<Long>> chosen = new CompletableFuture<>();
    try (SessionSetup setup = new SessionSetup(global.options, forceRelay.forced, lanes)) {
      StripedReceiver striped = new StripedReceiver(out, setup.options.reporter());
      try (IssuedSession session = IssuedSession.open(Capability.STREAM, setup.options,
          firstStreamOnly(receiverFor(self, out, striped, chosen)), lanes)) {
        self.set(session);
        session.useLanes(striped);
        return listen(session, setup, chosen);
      }
    }
  }

  private Integer listen(IssuedSession session, SessionSetup setup, CompletableFuture<CompletableFuture<Long>> chosen)
      throws Exception {
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
    quic.closeFuture().addListener(f -> chosen.completeExceptionally(new SessionException(
        session.reason("the connection to the other side closed before the stream began"))));
    long bytes;
    try {
      bytes = chosen.get().get();
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

  /**
   * Lane 0's stream goes to a one-lane receiver (the bytes as they are) or, when the claim agreed
   * on lanes, to a striped one (chunk frames, lanes joining as they come up); {@code chosen}
   * completes with the one that took it.
   */
  static ChannelHandler receiverFor(AtomicReference<IssuedSession> session, java.io.OutputStream out,
                                    StripedReceiver striped, CompletableFuture<CompletableFuture<Long>> chosen) {
    return new ChannelInitializer<QuicStreamChannel>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        IssuedSession s = session.get();
        if (s.lanes().agreed() > 1) {
          ch.pipeline().addLast(striped.lane0(s.lanes()));
          chosen.complete(striped.done());
        } else {
          StreamReceiver plain = new StreamReceiver(out);
          ch.pipeline().addLast(plain);
          chosen.complete(plain.done());
        }
      }
    };
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
