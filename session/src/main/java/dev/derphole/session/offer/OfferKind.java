package dev.derphole.session.offer;

import java.util.Locale;
import java.util.Optional;

/** What an offer carries; the JSON name is the lower-case constant name. */
public enum OfferKind {
  /** UTF-8 text, shown on the receiver's stdout. At most {@link OfferHeader#MAX_TEXT} bytes. */
  TEXT,
  /** One regular file; the body is its bytes. */
  FILE,
  /** A directory tree; the body is a tar stream (see {@link DirectoryTar}). */
  DIRECTORY,
  /** One OpenSSH public key line, from {@code ssh accept} to {@code ssh invite}. */
  SSH_KEY,
  /**
   * Several files and directories side by side ({@code derphole send PATH...}); the header lists
   * their names ({@link OfferHeader#items}), the body is one tar stream of them (see {@link DirectoryTar#planItems}).
   */
  ITEMS;

  String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  static Optional<OfferKind> ofJsonName(String name) {
    for (OfferKind k : values()) {
      if (k.jsonName().equals(name)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
