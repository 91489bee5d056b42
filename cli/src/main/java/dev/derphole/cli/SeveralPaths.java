package dev.derphole.cli;

import dev.derphole.derp.io.Failures;
import dev.derphole.session.SessionException;
import dev.derphole.session.offer.ByteSize;
import dev.derphole.session.offer.DirectoryTar;
import dev.derphole.session.offer.ItemsLanding;
import dev.derphole.session.offer.Landing;
import dev.derphole.session.offer.OfferHeader;
import dev.derphole.session.offer.OfferKind;
import dev.derphole.session.offer.OfferReceiver;
import dev.derphole.session.offer.SafeExtractor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code derphole send PATH PATH...}: several files and directories in one offer (kind {@code
 * items}), and, on {@code receive}, how they land beside each other ({@link ItemsLanding}).
 */
final class SeveralPaths {
  /** How many names a summary line shows before "and N more". */
  static final int NAMES_SHOWN = 2;

  private SeveralPaths() {}

  /**
   * The offer for two or more paths, each an existing file or directory. Two that would arrive
   * under the same name, or a path that is not there, are usage errors, found before anything is
   * offered.
   */
  static SendCommand.Offer offer(List<String> whats) throws SessionException {
    List<Path> paths = new ArrayList<>();
    List<String> items = new ArrayList<>();
    Map<String, String> byName = new HashMap<>();
    for (String what : whats) {
      Path path;
      try {
        path = Path.of(what);
      } catch (InvalidPathException e) {
        throw new Launcher.UsageException("there is no file or directory named " + OfferHeader.quote(what));
      }
      if (Files.isSymbolicLink(path)) {
        throw DirectoryTar.linkRefused(what);
      }
      boolean directory = Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
      if (!directory && !Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
          throw new SessionException(OfferHeader.quote(what) + " is neither a regular file nor a directory");
        }
        throw new Launcher.UsageException("there is no file or directory named " + OfferHeader.quote(what)
            + " (several paths are sent only as files and directories)");
      }
      Path abs = path.toAbsolutePath().normalize();
      if (abs.getFileName() == null) {
        throw new SessionException("cannot send the root directory; send a directory inside it");
      }
      String name = abs.getFileName().toString();
      String earlier = byName.putIfAbsent(name, what);
      if (earlier != null) {
        throw new Launcher.UsageException(OfferHeader.quote(earlier) + " and " + OfferHeader.quote(what)
            + " would both arrive as " + OfferHeader.quote(name) + "; send them apart, or rename one");
      }
      paths.add(abs);
      items.add(directory ? name + "/" : name);
    }
    DirectoryTar tar;
    try {
      tar = DirectoryTar.planItems(paths);
    } catch (IOException e) {
      throw new SessionException("cannot read what to send: " + Failures.describe(e), e);
    }
    return new SendCommand.Offer(OfferKind.ITEMS, "", tar.size(), tar.files(), tar.contentBytes(),
        "Sending " + summary(items, tar.contentBytes()), tar::writeTo, items);
  }

  /** {@code 3 items, 1.2 GiB: "a.txt", "photos/" and 1 more}; names quoted, as they may be the peer's. */
  static String summary(List<String> items, long contentBytes) {
    StringBuilder s = new StringBuilder().append(items.size()).append(" items, ").append(ByteSize.format(contentBytes))
        .append(": ");
    int shown = Math.min(items.size(), NAMES_SHOWN);
    for (int i = 0; i < shown; i++) {
      s.append(i == 0 ? "" : i == items.size() - 1 ? " and " : ", ").append(OfferHeader.quote(items.get(i)));
    }
    if (shown < items.size()) {
      s.append(" and ").append(items.size() - shown).append(" more");
    }
    return s.toString();
  }

  /** The receiving side of an {@code items} offer, in the directory {@code output} names (or here). */
  static void receive(OfferReceiver receiver, OfferHeader header, AtomicReference<ItemsLanding> landing,
                      Progress progress, String code, String output, boolean force) throws SessionException, IOException {
    ItemsLanding l;
    try {
      Path dir = ItemsLanding.directory(Path.of("").toAbsolutePath(), output);
      l = ItemsLanding.prepare(dir, header.items(), header.contentBytes(), force);
    } catch (Landing.Refused e) {
      throw receiver.refuse(e.toSender(), e.getMessage()); // the sender is not told this machine's paths
    } catch (SessionException e) {
      throw receiver.refuse(e.getMessage(), e.getMessage());
    }
    landing.set(l);
    receiver.accept();
    System.err.println("Receiving " + summary(header.items(), header.contentBytes()) + " into "
        + OfferHeader.quote(l.directory() + "/") + code);
    receiver.receiveBody(body -> SafeExtractor.extract(body, l.temp()), progress::update);
    l.commit();
    receiver.confirm("saved " + header.items().size() + " items");
    progress.finish(header.size(), "Received");
  }
}
