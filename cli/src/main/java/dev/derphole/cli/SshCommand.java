package dev.derphole.cli;

import dev.derphole.session.ClaimedSession;
import dev.derphole.session.IssuedSession;
import dev.derphole.session.SessionException;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.OfferReceiver;
import dev.derphole.session.offer.OfferSender;
import dev.derphole.session.offer.Verdict;
import dev.derphole.session.ssh.AuthorizedKeys;
import dev.derphole.session.ssh.PublicKeyFile;
import dev.derphole.session.ssh.PublicKeyLine;
import dev.derphole.session.ssh.SshUser;
import dev.derphole.session.stream.StreamPort;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.ByteArrayOutputStream;
import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code derphole ssh invite} / {@code ssh accept}: hand an SSH public key to a host, once. */
@Command(name = "ssh", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
    "Hand an SSH public key to a host with one token.",
    "",
    "The host runs `ssh invite`, the user runs `ssh accept <token>`, and the user's public key",
    "lands in the host account's ~/.ssh/authorized_keys.",
    ""},
    subcommands = {SshCommand.Invite.class, SshCommand.Accept.class})
final class SshCommand implements Callable<Integer> {
  @ParentCommand
  DerpholeCommand global;

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.err);
    return Launcher.USAGE_ERROR;
  }

  @Command(name = "invite", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
      "On the host: let one person add their SSH public key to this account.",
      "",
      "Prints a token for `derphole ssh accept`; the key it brings lands in this account's",
      "~/.ssh/authorized_keys (or --user's). The key is checked (one well-formed OpenSSH public",
      "key line, no options) and appended once; the directory is made 0700 and the file 0600.",
      ""})
  static final class Invite implements Callable<Integer> {
    @ParentCommand
    SshCommand ssh;

    @Option(names = {"-u", "--user"}, paramLabel = "USER", description = "The account to grant (default: the one running this).")
    String user;

    @Mixin
    TokenDisplay display;

    @Mixin
    ForceRelay forceRelay;

    @Override
    public Integer call() throws Exception {
      java.util.Optional<String> unsupported = unsupportedHere(user != null, System.getProperty("os.name", ""),
          java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
      if (unsupported.isPresent()) {
        throw new SessionException(unsupported.get());
      }
      SshUser account = SshUser.resolve(user, System.getenv());
      AuthorizedKeys keys = new AuthorizedKeys(account.home(), account.owner());
      StreamPort port = new StreamPort();
      try (SessionSetup setup = new SessionSetup(ssh.global.options, forceRelay.forced);
           IssuedSession session = IssuedSession.open(Capability.SSH, setup.options, ListenCommand.firstStreamOnly(port))) {
        System.err.println("Inviting an SSH key for " + account.name() + " (" + keys.file() + ")");
        display.show("derphole ssh accept", session.token().encode());
        setup.options.reporter().event("waiting-for-claim", "");
        try (InterruptHook hook = new InterruptHook(session)) {
          session.awaitConnection();
          OfferReceiver receiver = new OfferReceiver(port.in(), port.out());
          try {
            OfferHeader header = receiver.readHeader(session.token().verificationCode());
            if (header.kind() != OfferKind.SSH_KEY) {
              throw receiver.refuse("this is an ssh invite; use derphole ssh accept", "the other side offered a "
                  + header.kind().name().toLowerCase(Locale.ROOT) + ", not an SSH public key");
            }
            receiver.accept();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            receiver.receiveBody(in -> in.transferTo(body), n -> { });
            PublicKeyLine key = PublicKeyLine.parse(body.toString(StandardCharsets.UTF_8));
            AuthorizedKeys.Outcome outcome = keys.add(key);
            String what = key.type() + " key " + OfferHeader.quote(key.keyId()) + " (" + key.fingerprint() + ")";
            String note = outcome == AuthorizedKeys.Outcome.ADDED
                ? "Added " + what + " to " + keys.file()
                : "The " + what + " is already in " + keys.file() + "; nothing added";
            receiver.confirm(note);
            System.err.println(note);
          } catch (SessionException | IOException e) {
            throw PeerFailure.tell(session, e, receiver::fail);
          }
          hook.done();
          session.awaitConnection().closeFuture().await(5, TimeUnit.SECONDS);
        }
        return Launcher.OK;
      }
    }
  }

  /**
   * Why {@code ssh invite} cannot run on this platform, if it cannot: {@code --user} finds
   * accounts the Linux way ({@code getent}, {@code /etc/passwd}) and hands the files over by uid,
   * and {@code authorized_keys} must be kept to its owner with POSIX permissions (sshd ignores a
   * file others can write), which Windows's file system does not have.
   */
  static java.util.Optional<String> unsupportedHere(boolean otherUser, String osName, boolean posix) {
    if (otherUser && !osName.startsWith("Linux")) {
      return java.util.Optional.of("ssh invite --user works on Linux only; run ssh invite as that user instead");
    }
    if (!posix) {
      return java.util.Optional.of("ssh invite needs POSIX file permissions for authorized_keys (Linux, macOS);"
          + " this platform has none");
    }
    return java.util.Optional.empty();
  }

  @Command(name = "accept", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 100, description = {
      "Send your SSH public key to the host that ran `derphole ssh invite`.",
      "",
      "Sends the single ~/.ssh/*.pub, or --key-file. Asks before sending unless --yes.",
      ""})
  static final class Accept implements Callable<Integer> {
    @ParentCommand
    SshCommand ssh;

    @Parameters(index = "0", paramLabel = "TOKEN", description = "The token `derphole ssh invite` printed.")
    String token;

    @Option(names = {"-F", "--key-file"}, paramLabel = "FILE", description = "The public key to send (default: the only ~/.ssh/*.pub).")
    Path keyFile;

    @Option(names = {"-y", "--yes"}, description = "Send without asking.")
    boolean yes;

    @Mixin
    ForceRelay forceRelay;

    @Override
    public Integer call() throws Exception {
      Token t = SessionSetup.token(token, Capability.SSH);
      Path home = SshUser.resolve(null, System.getenv()).home(); // DERPHOLE_SSH_HOME counts here too
      Path file = PublicKeyFile.choose(home.resolve(".ssh"), keyFile);
      PublicKeyLine key = PublicKeyFile.read(file);
      // Asked about next, the key must be seen: only --yes makes this line a status line.
      (yes ? System.err : Stderr.output()).println("Sending public key " + key.type() + " " + OfferHeader.quote(key.keyId()) + " ("
          + key.fingerprint() + ") from " + file);
      if (!yes) {
        Console console = System.console();
        if (console == null) {
          throw new Launcher.UsageException("cannot ask before sending the key: no terminal; pass --yes to send it without asking");
        }
        String answer = console.readLine("Really send this public key? [y/N] ");
        if (answer == null || !answer.strip().toLowerCase(Locale.ROOT).matches("y|yes")) {
          throw new SessionException("aborted; nothing was sent");
        }
      }
      byte[] line = (key.line() + "\n").getBytes(StandardCharsets.UTF_8);
      try (SessionSetup setup = new SessionSetup(ssh.global.options, forceRelay.forced);
           ClaimedSession session = ClaimedSession.claim(t, setup.options, null)) {
        try (InterruptHook hook = new InterruptHook(session)) {
          StreamPort port = new StreamPort();
          try {
            session.connection().createStream(QuicStreamType.BIDIRECTIONAL, port).get(30, TimeUnit.SECONDS);
          } catch (ExecutionException | TimeoutException e) {
            throw new SessionException(session.reason("could not open a stream to the host"), e);
          }
          OfferHeader header = new OfferHeader(OfferKind.SSH_KEY, key.keyId(), line.length, 0, line.length,
              t.verificationCode());
          Verdict done;
          try {
            done = OfferSender.send(header, out -> out.write(line), port.in(), port.out(), n -> { });
          } catch (SessionException | IOException e) {
            throw PeerFailure.tell(session, e);
          }
          hook.done();
          System.err.println("Public key sent. The host says: " + done.reason());
        }
        return Launcher.OK;
      }
    }
  }
}
