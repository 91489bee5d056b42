package dev.derphole.cli;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.tunnel.ClientToken;
import dev.derphole.session.tunnel.ServerToken;
import dev.derphole.session.token.TokenException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import picocli.CommandLine.Option;

/**
 * Where a derptun command gets its token: exactly one of {@code --token}, {@code --token-file},
 * {@code --token-stdin}. {@code --token} takes the token text or, as the original README's
 * examples do, a path to a file holding it. No message ever repeats what was given.
 */
final class TunnelTokenSource {
  @Option(names = "--token", paramLabel = "TOKEN|FILE",
      description = "The token, or a file that holds it (prefer --token-file: argv is visible to other users).")
  String token;

  @Option(names = "--token-file", paramLabel = "FILE", description = "Read the token from FILE.")
  Path tokenFile;

  @Option(names = "--token-stdin", description = "Read the token from the first line of stdin "
      + "(with `connect --stdio`, the rest of stdin is the tunnel's input).")
  boolean tokenStdin;

  /** The token text; usage error (exit 2) unless exactly one source is given. */
  String text() {
    int given = (token != null ? 1 : 0) + (tokenFile != null ? 1 : 0) + (tokenStdin ? 1 : 0);
    if (given != 1) {
      throw new Launcher.UsageException(given == 0 ? "give the token with --token, --token-file or --token-stdin"
          : "give only one of --token, --token-file, --token-stdin");
    }
    String t;
    if (tokenFile != null) {
      t = readFile(tokenFile, "--token-file");
    } else if (tokenStdin) {
      t = firstLineOfStdin();
    } else if (looksLikeToken(token)) {
      t = token;
    } else {
      Path p;
      try {
        p = Path.of(token.strip());
      } catch (InvalidPathException e) {
        throw new Launcher.UsageException("--token is neither a derptun token nor a readable file");
      }
      if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
        throw new Launcher.UsageException("--token is neither a derptun token nor a readable file");
      }
      t = readFile(p, "--token");
    }
    if (t.isBlank()) {
      throw new Launcher.UsageException("the token is empty");
    }
    return t.strip();
  }

  ServerToken server(String command) throws TokenException {
    return ServerToken.decodeForServe(text(), command, Instant.now());
  }

  ClientToken client(String command) throws TokenException {
    return ClientToken.decodeForConnect(text(), command, Instant.now());
  }

  private static boolean looksLikeToken(String s) {
    String t = s.strip();
    return t.startsWith("dt") || t.startsWith("dhoB");
  }

  private static String readFile(Path p, String option) {
    try {
      if (Files.size(p) > 64 << 10) {
        throw new Launcher.UsageException(option + ": " + p + " is too large to be a token file");
      }
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new Launcher.UsageException(option + ": cannot read " + p + ": " + Failures.describe(e));
    }
  }

  /** One line, byte by byte so that nothing after it is consumed: the rest may be tunnel input. */
  private static String firstLineOfStdin() {
    InputStream in = new FileInputStream(FileDescriptor.in);
    StringBuilder sb = new StringBuilder();
    try {
      int c;
      while ((c = in.read()) >= 0 && c != '\n') {
        if (sb.length() > 8192) {
          throw new Launcher.UsageException("--token-stdin: the first line of stdin is too long to be a token");
        }
        sb.append((char) c);
      }
    } catch (IOException e) {
      throw new Launcher.UsageException("--token-stdin: cannot read stdin: " + Failures.describe(e));
    }
    return sb.toString();
  }
}
