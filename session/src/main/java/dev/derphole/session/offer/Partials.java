package dev.derphole.session.offer;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** The partials kept in one directory: finding the one for an offer, and sweeping old ones. */
final class Partials {
  /** A partial not added to for this long is removed by the next receive in its directory. */
  static final Duration MAX_AGE = Duration.ofDays(7);
  /** Records looked at per directory and call: a directory full of them costs no more. */
  static final int MAX_SCANNED = 64;
  private static final int TAG = 8;

  private Partials() {}

  /** The name a partial's record belongs to, or null if {@code file} is not a record's name. */
  static String nameOf(String file) {
    int tail = Partial.INFIX.length() + TAG + Partial.META.length();
    if (!file.startsWith(".") || !file.endsWith(Partial.META) || file.length() <= tail + 1) {
      return null;
    }
    String infix = file.substring(file.length() - tail, file.length() - tail + Partial.INFIX.length());
    String tag = file.substring(file.length() - TAG - Partial.META.length(), file.length() - Partial.META.length());
    if (!infix.equals(Partial.INFIX) || !tag.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return null;
    }
    return file.substring(1, file.length() - tail);
  }

  private static List<Path> records(Path dir, String name) throws IOException {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> {
      String n = nameOf(p.getFileName().toString());
      return n != null && (name == null || n.equals(name));
    })) {
      for (Path p : s) {
        out.add(p);
        if (out.size() == MAX_SCANNED) {
          break;
        }
      }
    }
    out.sort(null);
    return out;
  }

  /** Removes this user's partials in {@code dir} untouched for {@link #MAX_AGE}, with a note for each. */
  static void sweep(Path dir, Instant now, Consumer<String> notes) {
    try {
      for (Path meta : records(dir, null)) {
        if (Partial.untrusted(meta) != null) {
          continue; // not ours to remove
        }
        Instant touched = Files.getLastModifiedTime(meta, LinkOption.NOFOLLOW_LINKS).toInstant();
        if (touched.isBefore(now.minus(MAX_AGE))) {
          String name = nameOf(meta.getFileName().toString());
          for (OfferKind kind : new OfferKind[] {OfferKind.FILE, OfferKind.DIRECTORY}) {
            Path data = Partial.dataFor(meta, kind);
            if (Partial.untrusted(data) == null) {
              Files.deleteIfExists(data);
            }
          }
          Files.deleteIfExists(meta);
          notes.accept("removed the partial transfer of " + OfferHeader.quote(name) + " kept "
              + Duration.between(touched, now).toDays() + " days ago (partials are kept " + MAX_AGE.toDays() + " days)");
        }
      }
    } catch (IOException e) {
      // sweeping is housekeeping: a directory we cannot list fails the transfer later, with its own message
    }
  }

  /**
   * The usable partial for {@code name} and {@code id}, verified; stale ones (another content under
   * that name) and damaged tails are removed with a note. Null if there is none.
   */
  static Partial find(Path dir, String name, String id, OfferKind kind, long size, Consumer<String> notes) throws IOException {
    Partial found = null;
    for (Path meta : records(dir, name)) {
      Partial.Found f = Partial.reopen(meta, id, kind, size);
      if (f instanceof Partial.Found.Stale) {
        for (OfferKind k : new OfferKind[] {OfferKind.FILE, OfferKind.DIRECTORY}) {
          Path data = Partial.dataFor(meta, k);
          if (Partial.untrusted(data) == null) {
            Files.deleteIfExists(data);
          }
        }
        Files.deleteIfExists(meta);
        notes.accept("discarded the partial transfer of " + OfferHeader.quote(name)
            + " kept earlier: the sender's copy has changed since");
      } else if (f instanceof Partial.Found.Usable u) {
        if (found != null) {
          u.partial().delete(); // one is enough
          continue;
        }
        found = u.partial();
        if (u.damagedAt() >= 0) {
          notes.accept("the partial transfer of " + OfferHeader.quote(name) + " no longer matches its record after "
              + ByteSize.format(u.damagedAt()) + " (changed on disk); the rest is received again");
        }
      }
    }
    return found;
  }
}
