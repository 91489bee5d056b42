package dev.derphole.session.offer;

import java.nio.file.FileSystem;
import java.util.Locale;
import java.util.Set;

/**
 * Whether a name the other side chose is one plain file name on the file system it lands on.
 * {@link OfferHeader#checkName} and {@link SafeExtractor} already refuse {@code /}, NUL, control
 * characters, {@code .} and {@code ..}: that is all a POSIX file system needs. Windows's takes
 * more as special: {@code \} separates components (so {@code ..\..\x} would climb out), {@code :}
 * names a drive or a stream, {@code * ? " < > |} are wildcards or refused, a trailing dot or space
 * is dropped (so two names become one), and {@code CON}, {@code NUL}, {@code COM1} and the like,
 * with any extension, are devices: writing {@code CON} would print on the user's console.
 */
final class LocalNames {
  private static final Set<String> DEVICES = Set.of("CON", "PRN", "AUX", "NUL",
      "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
      "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
      "CONIN$", "CONOUT$");

  private LocalNames() {}

  /** Why {@code component} (one path component) is not a plain file name on {@code fs}; null if it is. */
  static String problem(String component, FileSystem fs) {
    if (fs.getSeparator().equals("/")) {
      return null;
    }
    for (int i = 0; i < component.length(); i++) {
      char c = component.charAt(i);
      if (c < 0x20 || "\\/:*?\"<>|".indexOf(c) >= 0) {
        return "has a " + (c < 0x20 ? "control character" : "\"" + c + "\"") + " (not allowed in a Windows name)";
      }
    }
    if (component.endsWith(".") || component.endsWith(" ")) {
      return "ends with a dot or a space (Windows drops them)";
    }
    int dot = component.indexOf('.');
    String base = (dot < 0 ? component : component.substring(0, dot)).stripTrailing().toUpperCase(Locale.ROOT);
    if (DEVICES.contains(base)) {
      return "is a Windows device name";
    }
    return null;
  }
}
