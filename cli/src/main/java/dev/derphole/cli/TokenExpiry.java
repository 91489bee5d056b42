package dev.derphole.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.Option;

/** {@code --days N} or {@code --expires DATE} for the token commands. */
final class TokenExpiry {
  @Option(names = "--days", paramLabel = "N", description = "Valid for N days (at least 1).")
  Integer days;

  @Option(names = "--expires", paramLabel = "DATE",
      description = "Valid until DATE: YYYY-MM-DD (00:00 UTC that day) or an instant like 2027-01-31T12:00:00Z.")
  String expires;

  /** The expiry, or {@code now + fallback} when neither option is given; usage error when they are wrong. */
  Instant resolve(Instant now, Duration fallback) {
    if (days != null && expires != null) {
      throw new Launcher.UsageException("give --days or --expires, not both");
    }
    if (days != null) {
      if (days < 1 || days > 36_500) {
        throw new Launcher.UsageException("--days must be between 1 and 36500, got " + days);
      }
      return now.plus(Duration.ofDays(days));
    }
    if (expires != null) {
      Instant at;
      try {
        at = expires.contains("T") ? Instant.parse(expires) : LocalDate.parse(expires).atStartOfDay(ZoneOffset.UTC).toInstant();
      } catch (DateTimeParseException e) {
        throw new Launcher.UsageException("--expires: \"" + expires + "\" is not YYYY-MM-DD or an ISO instant (2027-01-31T12:00:00Z)");
      }
      if (!at.isAfter(now)) {
        throw new Launcher.UsageException("--expires: " + expires + " is not in the future");
      }
      return at;
    }
    return now.plus(fallback);
  }
}
