/**
 * Session tokens: the bearer capability an issuing command prints and a claiming command reads.
 *
 * <p>{@link dev.derphole.session.token.Token} holds the byte layout; docs/protocol.md is the
 * specification. Decoding errors are {@link dev.derphole.session.token.TokenException}s whose
 * message is the one line shown to the user.
 */
package dev.derphole.session.token;
