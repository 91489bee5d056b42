/**
 * {@code derphole ssh invite} / {@code ssh accept}: the accepting side sends one OpenSSH public
 * key as an offer of kind {@code ssh_key}; the inviting side checks it ({@link PublicKeyLine}) and
 * appends it to the user's {@code authorized_keys} ({@link AuthorizedKeys}).
 */
package dev.derphole.session.ssh;
