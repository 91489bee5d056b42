package dev.derphole.cli;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.SessionOptions;
import dev.derphole.session.stream.StreamReceiver;
import dev.derphole.session.stream.StreamSender;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * The build's training run for the launcher's class archive: {@code mvn package} runs it once with
 * {@code -XX:ArchiveClassesAtExit=cli/target/derphole.jsa}, and every later start of a tool maps
 * the classes it loaded from that archive instead of finding, reading and verifying them in the
 * jar one by one (docs/benchmarks.md: a third of a fresh process's time to its token).
 *
 * <p>It loads what a session start needs, by doing one: an in-process relay on loopback, a
 * {@code listen} and a {@code pipe} end moving a few MiB over the direct path, and every command's
 * picocli model and help. Nothing here is user-facing; any failure ends the run with exit 0, and
 * whatever was loaded until then is archived (a missing class only loads the slow way).
 */
public final class ClassArchiveTraining {
  private static final int BYTES = 4 << 20;
  private static final long BUDGET_SECONDS = 60;

  private ClassArchiveTraining() {}

  public static void main(String[] args) {
    PrintStream err = System.err;
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(TimeUnit.SECONDS.toMillis(BUDGET_SECONDS));
        err.println("class-archive training: no end after " + BUDGET_SECONDS + " s; archiving what was loaded");
        System.exit(0);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "training-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    // The relay and the sessions log to stderr; the build log needs none of it.
    System.setErr(new PrintStream(OutputStream.nullOutputStream()));
    String outcome;
    try {
      models();
      outcome = session();
    } catch (Exception | LinkageError e) {
      outcome = "stopped early (" + Launcher.oneLine(e) + ")";
    }
    err.println("class-archive training: " + outcome);
    System.exit(0);
  }

  /** Every command's model, parsing and help, as a start of each tool builds them. */
  private static void models() {
    for (Object top : new Object[] {new DerpholeCommand(), new DerptunCommand(), new DerperCommand()}) {
      CommandLine cl = new CommandLine(top);
      cl.getUsageMessage();
      cl.getSubcommands().values().forEach(CommandLine::getUsageMessage);
    }
    new CommandLine(new DerpholeCommand()).parseArgs("--verbose", "pipe", "TOKEN");
  }

  /** A relay on loopback, then listen ⇐ pipe over it and the direct path. */
  private static String session() throws Exception {
    Path dir = Files.createTempDirectory("derphole-training");
    Path map = dir.resolve("map.json");
    try {
      Thread relay = new Thread(() -> new CommandLine(new DerperCommand()).execute(
          "--dev", "--listen", "127.0.0.1:0", "--stun-port", "0", "--derp-map-out", map.toString()), "training-relay");
      relay.setDaemon(true);
      relay.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!Files.exists(map)) {
        if (System.nanoTime() > deadline) {
          return "stopped early (the relay did not start)";
        }
        Thread.sleep(20);
      }
      try (SessionSetup issuerSetup = new SessionSetup(false, map.toString(), false);
           SessionSetup claimantSetup = new SessionSetup(false, map.toString(), false)) {
        StreamReceiver receiver = new StreamReceiver(OutputStream.nullOutputStream());
        try (IssuedSession issued = IssuedSession.open(Capability.STREAM, loopback(issuerSetup.options),
            ListenCommand.firstStreamOnly(receiver))) {
          Token token = SessionSetup.token(issued.token().encode(), Capability.STREAM);
          Thread issuer = new Thread(() -> {
            try {
              issued.awaitConnection();
            } catch (Exception e) {
              // the claimant's side reports the failure
            }
          }, "training-issuer");
          issuer.setDaemon(true);
          issuer.start();
          try (ClaimedSession claimed = ClaimedSession.claim(token, loopback(claimantSetup.options), null)) {
            long sent = StreamSender.send(claimed.connection(), new ByteArrayInputStream(new byte[BYTES]), n -> { });
            long received = receiver.done().get(20, TimeUnit.SECONDS);
            return "moved " + sent + " bytes (" + received + " confirmed)";
          }
        }
      }
    } finally {
      Files.deleteIfExists(map);
      Files.deleteIfExists(dir);
    }
  }

  /** The options of {@code setup}, accepting loopback candidates: the direct path on one machine. */
  private static SessionOptions loopback(SessionOptions o) {
    return new SessionOptions(o.group(), o.reporter(), o.maps(), o.customMap(), false, true, o.claimTimeout());
  }
}
