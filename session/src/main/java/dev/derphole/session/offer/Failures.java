package dev.derphole.session.offer;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.util.Locale;

/** Turns an I/O failure into the short phrase a user can act on ("no space left on device"). */
public final class Failures {
  private Failures() {}

  public static String describe(IOException e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (m.toLowerCase(Locale.ROOT).contains("no space left")) {
      return "no space left on device";
    }
    if (e instanceof AccessDeniedException a) {
      return "permission denied: " + a.getFile();
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason() + (f.getFile() != null ? ": " + f.getFile() : "");
    }
    return m;
  }
}
