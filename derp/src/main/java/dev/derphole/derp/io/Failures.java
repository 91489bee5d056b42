package dev.derphole.derp.io;

import java.io.IOException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The words a user reads for a failed file or socket operation: {@code no such file or
 * directory}, {@code permission denied}, {@code Connection refused}, {@code Address already in
 * use}. Never a Java class name ({@code NoSuchFileException}), never Netty's native wording
 * ({@code finishConnect(..) failed with error(-111): …}), never the bare path the JDK puts in the
 * message. The caller names the file or address; this says what went wrong with it.
 *
 * <p>File errors are lower case, as {@code ls} prints them; socket errors keep the system's
 * wording ({@code Connection refused}), as {@code curl} and {@code nc} print it.
 */
public final class Failures {
  /** Netty's native transports: {@code bind(..) failed with error(-98): Address already in use}. */
  private static final Pattern NATIVE = Pattern.compile("^(?:syscall:)?\\w+\\(\\.\\.\\) failed(?: with error\\(-?\\d+\\))?: (.+)$");

  private static final Pattern ADDRESS_SUFFIX = Pattern.compile("^(.+?): [^ ]*/[^ ]*:\\d+$");

  private static final java.util.Set<String> FILE_ERRORS = java.util.Set.of("Is a directory", "Not a directory",
      "No such file or directory", "Permission denied", "Read-only file system", "Input/output error",
      "File too large", "Too many open files", "Disk quota exceeded");

  private Failures() {}

  public static String describe(Throwable t) {
    Throwable c = t;
    while ((c instanceof ExecutionException || c instanceof CompletionException
        || c instanceof io.netty.handler.codec.DecoderException || c.getMessage() == null) && c.getCause() != null) {
      c = c.getCause();
    }
    String m = c.getMessage();
    if (m != null && m.toLowerCase(Locale.ROOT).contains("no space left")) {
      return "no space left on device";
    }
    if (c instanceof NoSuchFileException f) {
      return missing(f.getFile());
    }
    if (c instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (c instanceof FileAlreadyExistsException) {
      return "file exists";
    }
    if (c instanceof NotDirectoryException) {
      return "not a directory";
    }
    if (c instanceof DirectoryNotEmptyException) {
      return "directory not empty";
    }
    if (c instanceof FileSystemException f) {
      String reason = f.getReason();
      return reason == null ? "cannot access" : lowerFirst(reason);
    }
    if (c instanceof InvalidPathException) {
      return "not a valid path";
    }
    if (c instanceof io.netty.channel.ConnectTimeoutException) {
      return "Connection timed out";
    }
    if (c instanceof UnknownHostException) {
      return "unknown host";
    }
    if (m == null || m.isBlank()) {
      return c instanceof IOException ? "input/output error" : "unexpected " + c.getClass().getSimpleName();
    }
    if (FILE_ERRORS.contains(m)) { // a read or write on an open file: the JDK gives strerror's text
      return lowerFirst(m);
    }
    Matcher n = NATIVE.matcher(m);
    if (n.matches()) {
      m = n.group(1);
    }
    // Netty's connect failures append the remote address ("Connection refused: /127.0.0.1:3000");
    // the caller already names it.
    Matcher a = ADDRESS_SUFFIX.matcher(m);
    return c instanceof java.net.SocketException && a.matches() ? a.group(1) : m;
  }

  /** ENOENT names a file, but the missing piece is often the directory it would be in. */
  private static String missing(String file) {
    if (file != null) {
      try {
        Path parent = Path.of(file).toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
          return "no such directory";
        }
      } catch (InvalidPathException e) {
        // the plain answer below
      }
    }
    return "no such file or directory";
  }

  private static String lowerFirst(String s) {
    return s.isEmpty() || (s.length() > 1 && Character.isUpperCase(s.charAt(1)))
        ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }
}
