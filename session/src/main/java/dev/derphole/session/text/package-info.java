/**
 * Text that came from the other side (names, reasons, key comments) and is about to be shown to a
 * person: {@link PeerText} makes it safe to print on a terminal or write to a log.
 */
package dev.derphole.session.text;
