package dev.derphole.session.offer;

import dev.derphole.session.SessionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.time.Instant;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * A file or directory offer landing with resume: a {@link Landing} for the result and, when the
 * sender asked to resume, a {@link Partial} that records the body as it arrives.
 *
 * <p>A file's partial is its landing's temporary (resumed in place, never copied). A directory's
 * partial is its tar stream, kept beside the temporary directory it is extracted into; on resume the
 * held bytes are extracted again from the partial, then the rest from the sender. So a directory
 * needs room for its tar stream and its content at once.
 *
 * <p>{@link #abandon} keeps the partial when the transfer failed after some bytes (and says how
 * much), removes it when the bytes themselves proved wrong (the final SHA-256 failed).
 */
public final class ResumableLanding {
  private final OfferHeader header;
  private final Landing landing;
  private final Partial partial;
  private long start;
  private boolean finished;

  private ResumableLanding(OfferHeader header, Landing landing, Partial partial) {
    this.header = header;
    this.landing = landing;
    this.partial = partial;
  }

  /**
   * Sweeps old partials beside {@code target}, finds or makes the partial for this offer (when it
   * asks to resume and {@code resume} is on), and prepares the landing.
   */
  public static ResumableLanding prepare(Path target, OfferHeader header, boolean force, boolean resume,
                                         Consumer<String> notes) throws SessionException, IOException {
    boolean dir = header.kind() == OfferKind.DIRECTORY;
    Path parent = target.getParent();
    if (Files.isDirectory(parent)) {
      Partials.sweep(parent, Instant.now(), notes);
    }
    Partial partial = null;
    if (resume && header.resume() != null && PartialMeta.resumable(header.size()) && Files.isDirectory(parent)) {
      String name = target.getFileName().toString();
      try {
        partial = Partials.find(parent, name, header.resume(), header.kind(), header.size(), notes);
        if (partial == null) {
          partial = Partial.create(parent, name, header.kind(), header.resume(), header.size());
        }
      } catch (IOException e) {
        partial = null; // no resume then; the landing reports what is wrong with the directory
      }
    }
    try {
      Landing landing;
      if (partial == null) {
        landing = Landing.prepare(target, dir, dir ? header.contentBytes() : header.size(), force);
      } else if (dir) {
        landing = Landing.prepareDirectoryAt(target, partial.extractionDir(), header.contentBytes() + header.size() - partial.held(), force);
      } else {
        landing = Landing.adopt(target, partial.data(), partial.channel(), partial.fileKey(), header.size() - partial.held(), force);
      }
      return new ResumableLanding(header, landing, partial);
    } catch (SessionException | IOException | RuntimeException e) {
      if (partial != null) {
        partial.keep();
      }
      throw e;
    }
  }

  public Landing landing() {
    return landing;
  }

  /** Verified bytes this side holds already (0 without a partial). */
  public long held() {
    return partial == null ? 0 : partial.held();
  }

  /**
   * Accepts the offer: with what is held if the sender asked to resume, else as always. Returns
   * where the body starts.
   */
  public long accept(OfferReceiver receiver, Consumer<String> notes) throws SessionException, IOException {
    if (header.resume() == null || partial == null) {
      receiver.accept();
      return 0;
    }
    long held = partial.held();
    start = receiver.acceptResume(new ResumeWire.Hold(held, partial.heldSha()));
    if (start == 0 && held > 0) {
      partial.restart();
      notes.accept("the sender's copy differs from the " + ByteSize.format(held) + " kept earlier; receiving all of it again");
    }
    return start;
  }

  /** Receives the body from the start {@link #accept} agreed on. */
  public void receive(OfferReceiver receiver, LongConsumer progress) throws SessionException, IOException {
    boolean dir = header.kind() == OfferKind.DIRECTORY;
    if (partial == null) {
      if (dir) {
        receiver.receiveBody(body -> SafeExtractor.extract(body, landing.temp()), progress);
      } else {
        receiver.receiveBody(landing::write, progress);
      }
      return;
    }
    OfferReceiver.Sink sink;
    if (dir) {
      sink = body -> {
        InputStream recorded = partial.recording(body);
        InputStream whole = start > 0 ? new SequenceInputStream(partial.replay(), recorded) : recorded;
        SafeExtractor.extract(whole, landing.temp());
        recorded.transferTo(OutputStream.nullOutputStream()); // what follows the archive's end is part of the body
      };
    } else {
      sink = body -> partial.recording(body).transferTo(OutputStream.nullOutputStream());
    }
    receiver.receiveBody(start, start > 0 ? partial.digestAtHeld() : Sha256.create(), sink, progress);
    if (!dir) {
      partial.channel().force(true);
      ownerOnlyToDefault(partial.data());
    }
  }

  /** Puts the verified result in place and drops the partial's record. */
  public synchronized void commit() throws SessionException, IOException {
    landing.commit();
    finished = true;
    if (partial != null) {
      if (header.kind() == OfferKind.DIRECTORY) {
        partial.delete();
      } else {
        partial.completed();
      }
    }
  }

  /**
   * Gives up: removes the temporary result, and keeps the partial for a resume if {@code keep} and
   * anything was recorded (not when all of the body arrived: then the bytes themselves were wrong).
   * Returns a note for the user, or null. Safe from a shutdown hook and more than once.
   */
  public synchronized String abandon(boolean keep) {
    if (finished) {
      return null;
    }
    finished = true;
    if (partial == null) {
      landing.discard();
      return null;
    }
    if (header.kind() == OfferKind.DIRECTORY) {
      landing.discard();
    }
    long kept = keep && partial.recordedBytes() < header.size() ? partial.keep() : 0;
    if (kept == 0) {
      partial.delete();
      if (header.kind() == OfferKind.FILE) {
        landing.discard();
      }
      return null;
    }
    return "kept " + ByteSize.format(kept) + " of " + ByteSize.format(header.size())
        + "; run the same send again to resume";
  }

  /** A file's partial is made 0600; the result gets the mode a new file gets here (0666 less the umask). */
  private static void ownerOnlyToDefault(Path data) throws IOException {
    PosixFileAttributeView view = Files.getFileAttributeView(data, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    if (view == null) {
      return;
    }
    int mode = 0666 & ~Umask.of(data.getParent());
    view.setPermissions(SafeExtractor.permissions(mode));
  }
}
