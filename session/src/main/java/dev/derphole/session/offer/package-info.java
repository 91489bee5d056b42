/**
 * {@code derphole send} / {@code receive} (and the key hand-over of {@code ssh invite/accept}): the
 * offer protocol on one QUIC stream, written as plain blocking code over an {@link
 * java.io.InputStream} and {@link java.io.OutputStream} so that unit tests run it over pipes.
 *
 * <pre>
 *   sender                                         receiver
 *     ── header  "DHOFFER1" ‖ u32 len ‖ JSON ──────▶   (kind, name, size, files, verify)
 *     ◀─ verdict accept | refuse "reason" ──────────   (target exists? not enough space?)
 *     ── body    exactly size bytes ────────────────▶   written to a temporary name
 *     ── trailer SHA-256 of the body (32 bytes), FIN ▶  compared, then renamed into place
 *     ◀─ verdict ok | failed "reason", FIN ─────────
 * </pre>
 *
 * Details and limits: {@code docs/protocol.md}, "send / receive".
 */
package dev.derphole.session.offer;
